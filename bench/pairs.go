package main

import (
	"fmt"
	"strings"
)

// figure is one line of a paired report: how to read it from one run's
// result, and whether runs compare as a ratio or as a difference in ms.
type figure[R any] struct {
	label string
	value func(R) float64
	ratio bool
}

// printPaired prints each figure's median for every path of names, then
// for each pair (a, b) the median over rounds of a's figure against b's of
// the same round, so the broker's drift between rounds cancels out.
func printPaired[R any](results map[string][]R, names []string, pairs [][2]string, figures []figure[R]) {
	var head strings.Builder
	fmt.Fprintf(&head, "\n%-20s", "")
	for _, n := range names {
		fmt.Fprintf(&head, " %11s", n)
	}
	for _, p := range pairs {
		fmt.Fprintf(&head, "   %-11s", p[0]+"/"+p[1])
	}
	fmt.Println(head.String() + "  (median of per-round pairs)")
	for _, f := range figures {
		line := fmt.Sprintf("%-20s", f.label)
		for _, n := range names {
			var v []float64
			for _, r := range results[n] {
				v = append(v, f.value(r))
			}
			line += fmt.Sprintf(" %11.2f", medianOf(v))
		}
		for _, p := range pairs {
			var v []float64
			for i := range results[p[0]] {
				x, y := f.value(results[p[0]][i]), f.value(results[p[1]][i])
				if f.ratio {
					v = append(v, x/y)
				} else {
					v = append(v, x-y)
				}
			}
			if f.ratio {
				line += fmt.Sprintf("   %10.3fx", medianOf(v))
			} else {
				line += fmt.Sprintf("   %+8.2f ms", medianOf(v))
			}
		}
		fmt.Println(line)
	}
}
