// Package gcpace lowers the garbage collector's headroom for the phases
// of the tool that turn most of what they allocate into garbage at once
// while what they keep grows: reading offline input, and making an
// audit's report. At the default (GOGC=100) the heap may grow to twice
// what is live before a collection, so a phase whose live set peaks
// (a dense cluster's audit holds its report and its probes' answers at
// once) doubles that peak in the process's memory.
package gcpace

import (
	"runtime/debug"
	"slices"
	"sync"
)

var (
	mu     sync.Mutex
	active []int // the percents asked for by phases running now
	before int   // the percent before the first
)

// Tight sets the collector's percent (GOGC) to percent, or to a lower one
// another phase running at the same time asked for, and returns what
// undoes it: phases at once (a fleet's reads, an explorer's audit beside
// a read) share the lowest, and the last to end puts back what was there
// before the first.
func Tight(percent int) func() {
	mu.Lock()
	defer mu.Unlock()
	if len(active) == 0 {
		before = debug.SetGCPercent(percent)
	}
	active = append(active, percent)
	debug.SetGCPercent(slices.Min(active))
	done := false
	return func() {
		mu.Lock()
		defer mu.Unlock()
		if done {
			return
		}
		done = true
		active = slices.Delete(active, slices.Index(active, percent), slices.Index(active, percent)+1)
		if len(active) == 0 {
			debug.SetGCPercent(before)
		} else {
			debug.SetGCPercent(slices.Min(active))
		}
	}
}
