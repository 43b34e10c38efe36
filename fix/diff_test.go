package fix

import (
	"strings"
	"testing"
)

func TestDiffShowsWholeItems(t *testing.T) {
	before := map[string]any{"subjects": []any{map[string]any{"kind": "User", "name": "alice"}, map[string]any{"kind": "User", "name": "bob"}}}
	after := map[string]any{"subjects": []any{map[string]any{"kind": "User", "name": "bob"}}}
	got := Diff(before, after)
	want := "  subjects:\n- - kind: User\n-   name: alice\n  - kind: User\n    name: bob\n"
	if got != want {
		t.Errorf("diff:\n%s\nwant:\n%s", got, want)
	}
	if d := Diff(nil, after); strings.Count(d, "+ ") != 3 {
		t.Errorf("a create shows every line added:\n%s", d)
	}
}
