package source

import (
	"runtime/debug"
	"testing"
)

// current is the GC percent now (SetGCPercent returns the previous one).
func current() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// TestTightGC: reads at once share one lowering of the collector's
// headroom, and the last to end puts the caller's back.
func TestTightGC(t *testing.T) {
	before := debug.SetGCPercent(80)
	defer debug.SetGCPercent(before)
	a := tightGC()
	b := tightGC()
	if got := current(); got != readGCPercent {
		t.Fatalf("during two reads: GC percent %d, want %d", got, readGCPercent)
	}
	a()
	if got := current(); got != readGCPercent {
		t.Errorf("one read still running: GC percent %d, want %d", got, readGCPercent)
	}
	b()
	if got := current(); got != 80 {
		t.Errorf("after both: GC percent %d, want the caller's 80", got)
	}
}
