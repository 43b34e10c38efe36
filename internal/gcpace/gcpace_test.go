package gcpace

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

// TestTight: phases at once share the lowest percent asked for, and the
// last to end puts the caller's back, whatever order they end in.
func TestTight(t *testing.T) {
	before := debug.SetGCPercent(80)
	defer debug.SetGCPercent(before)
	read := Tight(25)
	audit := Tight(50)
	if got := current(); got != 25 {
		t.Fatalf("during a read and an audit: GC percent %d, want 25", got)
	}
	read()
	if got := current(); got != 50 {
		t.Errorf("the audit still running: GC percent %d, want 50", got)
	}
	read() // twice: nothing more
	if got := current(); got != 50 {
		t.Errorf("a second undo of the read: GC percent %d, want 50", got)
	}
	audit()
	if got := current(); got != 80 {
		t.Errorf("after both: GC percent %d, want the caller's 80", got)
	}
	a, b := Tight(25), Tight(25)
	a()
	if got := current(); got != 25 {
		t.Errorf("one of two reads running: GC percent %d, want 25", got)
	}
	b()
	if got := current(); got != 80 {
		t.Errorf("after two reads: GC percent %d, want 80", got)
	}
}
