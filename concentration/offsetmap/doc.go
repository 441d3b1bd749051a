// Package offsetmap keeps, for one physical partition of a concentrated
// topic, the correspondence between physical offsets and the offsets each
// logical partition shows to its clients.
//
// # Determinism
//
// The gateway tags every record it writes to a physical topic with the
// logical topic and partition it belongs to. The map is nothing more than a
// function of the physical log: reading the partition from its start in
// offset order and giving each tagged record the next free logical offset
// of its tag yields the same numbers on every gateway node, with no
// coordination between nodes. In Dense mode those numbers run 0, 1, 2, …
// per logical partition; in Physical mode (compacted topics, where holes are
// normal anyway) the physical offset itself is the logical one and the index
// only records which offsets belong to which tag.
//
// # Runs
//
// A tag's records are kept as runs of consecutive physical offsets. Each run
// is 16 bytes: its first physical offset plus, in Dense mode, its first
// logical offset (a run's length follows from the next run's logical offset)
// or, in Physical mode, its last physical offset. Lookups are binary
// searches over a tag's runs and never allocate.
//
// # Memory bound
//
// The worst case is a log where consecutive records always belong to
// different tags, so every record is its own run: 16 bytes per record plus
// the slack of growing slices (at most a quarter), about 16 to 20 MB per
// million records. Logs written in batches by few producers need far less.
//
// # Chunks and checkpoints
//
// Physical offsets are cut into chunks of ChunkSize offsets. Once the
// index has read past the end of a chunk, the chunk is sealed and never
// changes again except through Forget, so it can be encoded once with
// Checkpoint and stored in a compacted topic keyed by partition and chunk
// number. Each checkpoint carries the logical end of every tag known at
// the chunk's start, so Restore can start from any chunk still stored
// (older ones may have been removed together with the data they describe)
// and a restarted node reads only the records after the last sealed chunk
// instead of the whole partition.
package offsetmap
