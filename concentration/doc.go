// Package concentration stores many logical topics on a few shared
// physical topics. A ConcentrationRule names a pattern and, per cleanup
// policy, the physical topic that holds the records of every topic created
// under the pattern afterwards. Creating such a topic only registers it (in
// a compacted internal topic, shared by every node); its partitions are
// mapped onto the physical topic's partitions, and every record written to
// it carries the logical topic's id and partition in two headers.
//
// The Concentrator translates the requests that name topics — between the
// virtual cluster translation and the backing cluster, so it sees backing
// names — and their responses: Metadata lists logical topics as ordinary
// ones, Produce tags and redirects records, Fetch returns only a logical
// partition's batches, with offsets renumbered densely when the rule asks
// for offset correctness. The numbering comes from the offset index
// (package offsetmap), which is a pure function of the physical log, so
// every node computes the same offsets without coordinating.
package concentration
