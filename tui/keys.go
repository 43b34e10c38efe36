package tui

import "charm.land/bubbles/v2/key"

// KeyMap is every key the explorer answers to, defined once and matched
// with key.Matches.
type KeyMap struct {
	Quit, ForceQuit, Help      key.Binding
	NextPage, PrevPage         key.Binding
	Page1, Page2, Page3, Page4 key.Binding
	Up, Down, PageUp, PageDown key.Binding
	Home, End, Left, Right     key.Binding
	Filter, Enter, Back        key.Binding
	Reload, SignIn             key.Binding
	// Problems lists every gap and warning of the load with its fix.
	Problems                key.Binding
	Fix, Write, Apply, Copy key.Binding
	Category                key.Binding
	// Verify asks the cluster's own authorizer about the answer shown.
	Verify key.Binding
	// Sort cycles a list's order.
	Sort key.Binding
	// Group cycles how Findings groups (by rule, subject, binding or
	// not at all); enter on a group expands it.
	Group key.Binding
	// YAML shows the selected object as it was read.
	YAML key.Binding
	// Transitive shows who reaches a request through a service account.
	Transitive key.Binding
	// Members lists who is in the Entra groups of an answer (and who may
	// activate membership through PIM).
	Members              key.Binding
	ScopePrev, ScopeNext key.Binding
	// Narrow and Widen give the list less or more of the screen than the
	// detail; Zoom gives the pane with the keys all of it (k9s's z).
	Narrow, Widen, Zoom key.Binding
	// Erase empties a line being typed (a filter, a query); Complete
	// takes the query line's completion.
	Erase, Complete key.Binding
	// Confirm applies a fix; it is a key no other state of the fix flow
	// uses (y copies), so a habit cannot apply one.
	Confirm, No key.Binding
}

// HelpGroup is a titled group of keys in the full help (?).
type HelpGroup struct {
	Name string
	Keys []key.Binding
}

// HelpGroups are every key of the map, grouped for the full help: a test
// holds that no field of KeyMap is left out, so a key added is a key
// explained.
func (k *KeyMap) HelpGroups() []HelpGroup {
	return []HelpGroup{
		{"Pages", []key.Binding{k.Page1, k.Page2, k.Page3, k.Page4, k.NextPage, k.PrevPage}},
		{"Move", []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End, k.Left, k.Right}},
		{"Look", []key.Binding{k.Filter, k.Enter, k.Back, k.ScopePrev, k.ScopeNext, k.Category, k.Sort, k.Group, k.Transitive, k.Members, k.Verify, k.YAML}},
		{"Layout", []key.Binding{k.Narrow, k.Widen, k.Zoom}},
		{"Typing", []key.Binding{k.Erase, k.Complete}},
		{"Fix", []key.Binding{k.Fix, k.Write, k.Apply, k.Copy, k.Confirm, k.No}},
		{"Session", []key.Binding{k.Reload, k.SignIn, k.Problems, k.Help, k.Quit, k.ForceQuit}},
	}
}

// DefaultKeyMap is the explorer's key map.
func DefaultKeyMap() *KeyMap {
	b := func(help string, keys ...string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(keys[0], help))
	}
	k := &KeyMap{
		Quit:       b("quit", "q"),
		ForceQuit:  b("quit", "ctrl+c"),
		Help:       b("help", "?"),
		NextPage:   b("next page", "tab"),
		PrevPage:   b("previous page", "shift+tab"),
		Page1:      b("subjects", "1"),
		Page2:      b("who can", "2"),
		Page3:      b("findings", "3"),
		Page4:      b("roles & bindings", "4"),
		Up:         b("up", "up", "k"),
		Down:       b("down", "down", "j"),
		PageUp:     b("page up", "pgup", "ctrl+b"),
		PageDown:   b("page down", "pgdown", "ctrl+f", "space"),
		Home:       b("first", "home", "g"),
		End:        b("last", "end", "G"),
		Left:       b("left", "left", "h"),
		Right:      b("right", "right", "l"),
		Filter:     b("filter", "/"),
		Enter:      b("open detail", "enter"),
		Back:       b("back", "esc"),
		Reload:     b("reload", "r"),
		SignIn:     b("sign in again", "L"),
		Problems:   b("problems", "!"),
		Fix:        b("show fix", "f"),
		Write:      b("write fix to a file", "w"),
		Apply:      b("apply fix (dry run first)", "a"),
		Copy:       b("copy kubectl command", "y"),
		Category:   b("category", "c"),
		Verify:     b("verify with the cluster", "V"),
		Sort:       b("sort", "s"),
		Group:      b("group by", "b"),
		YAML:       b("YAML", "v"),
		Transitive: b("via service accounts", "t"),
		Members:    b("members of groups", "e"),
		ScopePrev:  b("previous namespace", "["),
		ScopeNext:  b("next namespace", "]"),
		Narrow:     b("narrower list", "<"),
		Widen:      b("wider list", ">"),
		Zoom:       b("zoom pane", "z"),
		Erase:      b("erase the line", "ctrl+u"),
		Complete:   b("complete", "tab"),
		Confirm:    b("apply", "Y"),
		No:         b("no", "n", "esc"),
	}
	k.Up.SetHelp("↑/k", "up")
	k.Down.SetHelp("↓/j", "down")
	k.PageDown.SetHelp("pgdn", "page down")
	k.Left.SetHelp("←/h", "left")
	k.Right.SetHelp("→/l", "right")
	k.Confirm.SetHelp("Y", "apply (shift+y)")
	k.No.SetHelp("n/esc", "cancel")
	return k
}
