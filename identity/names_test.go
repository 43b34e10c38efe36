package identity

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-access/kubectl-access/rbac"
)

func TestLoadNames(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"map.json":  `{"g1": "Team One", "g2": "Team Two"}`,
		"list.json": `[{"id": "g1", "displayName": "Team One"}, {"id": "g2", "name": "Team Two"}]`,
		"names.csv": "id,name\ng1,Team One\ng2, Team Two\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		n, err := LoadNames(t.Context(), p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n["g1"] != "Team One" || n["g2"] != "Team Two" || n.Label("g1") != "g1 (Team One)" || n.Label("g3") != "g3" {
			t.Errorf("%s: %v", name, n)
		}
	}
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("just-an-id\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadNames(t.Context(), bad); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("a line without a name: %v", err)
	}
	if _, err := LoadNames(t.Context(), filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "--group-names") {
		t.Errorf("a missing file: %v", err)
	}
}

// TestResolvePrecedence: system: names and object ids are never read as
// display names, whatever the names say: a group Entra calls
// "system:masters", or one whose display name is another group's id, does
// not take their place (issue 28, E).
func TestResolvePrecedence(t *testing.T) {
	const (
		evil  = "0d1b1bd6-52b4-4d2c-9a0e-2d5b8f7c1a11"
		other = "7f3e2a90-1c4b-4e8f-a6d2-5b9c0e1f2a33"
	)
	n := Names{evil: "system:masters", "g2": other, "g3": "Web Developers"}
	for in, want := range map[string]string{
		"system:masters":       "system:masters",
		"SYSTEM:MASTERS":       "SYSTEM:MASTERS", // a system: name in another case is not a display name either
		other:                  other,
		strings.ToUpper(other): strings.ToUpper(other),
		"web developers":       "g3",
		evil:                   evil,
	} {
		if got, err := n.Resolve(in); err != nil || got != want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// TestLoadNamesRefusesCollisions: an entry whose display name is a
// system: name, an object id or another entry's id is refused, naming the
// entry: the names file is data and never decides which group a question
// is about.
func TestLoadNamesRefusesCollisions(t *testing.T) {
	dir := t.TempDir()
	for name, tc := range map[string]struct{ content, entry string }{
		"system": {`{"0d1b1bd6-52b4-4d2c-9a0e-2d5b8f7c1a11": "system:masters"}`, "0d1b1bd6-52b4-4d2c-9a0e-2d5b8f7c1a11"},
		"guid":   {`[{"id": "g1", "displayName": "7F3E2A90-1C4B-4E8F-A6D2-5B9C0E1F2A33"}]`, "g1"},
		"id":     {"id,name\ng1,Team\ng2,g1\n", "g2"},
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(tc.content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadNames(t.Context(), p); err == nil || !strings.Contains(err.Error(), tc.entry) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v, want an error naming the entry %s", name, err, tc.entry)
		}
	}
	p := filepath.Join(dir, "self")
	if err := os.WriteFile(p, []byte(`{"7f3e2a90-1c4b-4e8f-a6d2-5b9c0e1f2a33": "7f3e2a90-1c4b-4e8f-a6d2-5b9c0e1f2a33", "g": "system admins"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadNames(t.Context(), p); err != nil {
		t.Errorf("a group named as its own id, or a name that is no system: name: %v", err)
	}
}

// FuzzResolve: with any names file (two entries, as JSON), a group written
// as a system: name or an object id, or as an id the file names, resolves
// to itself; anything that resolves to another text resolves to an id the
// file gives that display name; and a file that loads has no display name
// that is a system: name, an object id or another entry's id.
func FuzzResolve(f *testing.F) {
	f.Add("0d1b1bd6-52b4-4d2c-9a0e-2d5b8f7c1a11", "system:masters", "g2", "Web Developers", "system:masters")
	f.Add("g1", "7f3e2a90-1c4b-4e8f-a6d2-5b9c0e1f2a33", "g2", "g1", "7f3e2a90-1c4b-4e8f-a6d2-5b9c0e1f2a33")
	f.Add("g1", "Team", "g2", "team", "TEAM")
	f.Add("g1", "SYSTEM:Nodes", "g2", "x", "system:nodes")
	f.Fuzz(func(t *testing.T, id1, name1, id2, name2, q string) {
		b, _ := json.Marshal(map[string]string{id1: name1, id2: name2})
		n, err := parseNames("fuzz.json", b)
		if err != nil {
			return
		}
		for id, name := range n {
			if _, isID := n[name]; name != "" && name != id && (literal(name) || isID) {
				t.Fatalf("loaded %q -> %q: a display name that stands for another group", id, name)
			}
		}
		got, err := n.Resolve(q)
		if err != nil {
			return // a display name two groups share: an error, never a guess
		}
		if _, known := n[q]; (literal(q) || known) && got != q {
			t.Fatalf("Resolve(%q) = %q: an id or system: name was read as a display name", q, got)
		}
		if got != q {
			if name, ok := n[got]; !ok || !strings.EqualFold(name, q) {
				t.Fatalf("Resolve(%q) = %q, which the names do not call %q", q, got, q)
			}
		}
	})
}

// TestADNames: AKS hybrid's SIDs map to DOMAIN\name both ways, whichever
// column or side of the file holds the SID; a SID is never a display
// name.
func TestADNames(t *testing.T) {
	const (
		admins = "S-1-5-21-3623811015-3361044348-30300820-512"
		sre    = "S-1-5-21-3623811015-3361044348-30300820-1105"
		bob    = "S-1-5-21-3623811015-3361044348-30300820-1013"
	)
	dir := t.TempDir()
	for name, content := range map[string]string{
		"name-sid.csv":  "\"Name\",\"SID\"\n\"CONTOSO\\Domain Admins\",\"" + admins + "\"\nCONTOSO\\SREGroup," + sre + "\nCONTOSO\\bob," + bob + "\n",
		"sid-name.csv":  admins + ",CONTOSO\\Domain Admins\n" + sre + ",CONTOSO\\SREGroup\n" + bob + ",CONTOSO\\bob\n",
		"name-sid.json": `{"CONTOSO\\Domain Admins": "` + admins + `", "CONTOSO\\SREGroup": "` + sre + `", "` + bob + `": "CONTOSO\\bob"}`,
		"powershell.json": `[{"Name": "CONTOSO\\Domain Admins", "SID": {"BinaryLength": 28, "Value": "` + admins + `"}},` +
			`{"name": "CONTOSO\\SREGroup", "sid": "` + sre + `"}, {"id": "` + bob + `", "displayName": "CONTOSO\\bob"}]`,
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		n, err := LoadNames(t.Context(), p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(n) != 3 || n.Label(admins) != admins+` (CONTOSO\Domain Admins)` || n[sre] != `CONTOSO\SREGroup` {
			t.Errorf("%s: %v", name, n)
		}
		for in, want := range map[string]string{
			`CONTOSO\Domain Admins`:                      admins,
			`contoso\domain admins`:                      admins,
			"Domain Admins":                              admins,
			`microsoft:activedirectory:CONTOSO\SREGroup`: sre,
			"SREGroup":                                   sre,
			sre:                                          sre,
			"S-1-5-21-1-2-3-4":                           "S-1-5-21-1-2-3-4", // a SID the names do not know is itself
			"microsoft:activedirectory:" + sre:           "microsoft:activedirectory:" + sre,
			"Someone Else":                               "Someone Else",
		} {
			if got, err := n.Resolve(in); err != nil || got != want {
				t.Errorf("%s: Resolve(%q) = %q, %v; want %q", name, in, got, err, want)
			}
		}
		if got := n.Subject(rbac.Subject{Kind: rbac.UserKind, Name: bob}); got != "user:"+bob+` (CONTOSO\bob)` {
			t.Errorf("%s: a SID user reads %s", name, got)
		}
	}
	// Two domains' groups of one account name: written without the
	// domain, the name is ambiguous, never a guess.
	two := Names{admins: `CONTOSO\Domain Admins`, "S-1-5-21-1-2-3-512": `FABRIKAM\Domain Admins`}
	if _, err := two.Resolve("Domain Admins"); err == nil || !strings.Contains(err.Error(), "2 groups") {
		t.Errorf("an account name two domains share: %v", err)
	}
	if got, _ := two.Resolve(`FABRIKAM\Domain Admins`); got != "S-1-5-21-1-2-3-512" {
		t.Errorf("with its domain: %s", got)
	}
	// A display name that is a SID would stand for that group.
	if _, err := parseNames("evil.json", []byte(`{"0d1b1bd6-52b4-4d2c-9a0e-2d5b8f7c1a11": "`+admins+`"}`)); err == nil {
		t.Errorf("an object id named by a SID (read as the SID named by the object id) was accepted")
	}
	if err := (Names{"g1": admins}).check(); err == nil || !strings.Contains(err.Error(), admins) {
		t.Errorf("a SID as a display name: %v", err)
	}
	if err := (Names{"g1": "microsoft:activedirectory:" + admins}).check(); err == nil {
		t.Errorf("a prefixed SID as a display name was accepted")
	}
}
