package tui

import (
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/cluster"
	"github.com/kubectl-access/kubectl-access/identity"
	"github.com/kubectl-access/kubectl-access/loading"
)

// TestWhoCanMembers: e on Who can asks the directory who is in each
// group; a group's detail lists its members (guests marked, nested ones
// with their chain) and, apart, who may activate membership through PIM;
// the same the CLI's --expand-groups --eligible says.
func TestWhoCanMembers(t *testing.T) {
	dir, err := identity.LoadDirectory(t.Context(), []string{"../testdata/demo/entra-directory.json"})
	if err != nil {
		t.Fatal(err)
	}
	cat := loading.Builtin()
	app := &access.App{Files: []string{"../testdata/demo/cluster.yaml"}, Origin: access.Origin{Files: []string{"cluster.yaml"}},
		Catalog: cat, Resolver: cluster.NewResolver(cat), Names: dir.Names(), Namespace: "default", People: dir}
	f := start(t, app, 180, 60, Options{})
	f.keys("2")
	f.typeText("get secrets -n payments")
	f.keys("<enter>", "e")
	f.wait(whoCanMembersMsg{})
	// The first subject is AKS Cluster Admins; the second Payments
	// Developers.
	f.keys("<down>")
	m, screen := f.finish()
	s := plain(screen)
	p := m.pages[1].(*whoCanPage)
	if !p.members || len(p.res.Members) != 3 || len(p.res.Eligible) != 2 {
		t.Fatalf("members %d, eligible %d", len(p.res.Members), len(p.res.Eligible))
	}
	for _, want := range []string{"Members: 3 people (1 guest), 1 nested group", "carol_fabrikam.com#EXT#@contoso.onmicrosoft.com (guest)", "dave@contoso.com via Payments Contractors"} {
		if !strings.Contains(s, want) {
			t.Errorf("no %q on the screen:\n%s", want, s)
		}
	}
	if strings.Contains(s, "heidi") {
		t.Errorf("heidi (eligible for AKS Cluster Admins) shown under Payments Developers:\n%s", s)
	}

	// On AKS Cluster Admins: heidi is eligible, apart from the members.
	f = start(t, app, 180, 60, Options{})
	f.keys("2")
	f.typeText("get secrets -n payments")
	f.keys("<enter>", "e")
	f.wait(whoCanMembersMsg{})
	_, screen = f.finish()
	s = plain(screen)
	if !strings.Contains(s, "Eligible through PIM, not active:") || !strings.Contains(s, "heidi@contoso.com may activate member of AKS Cluster Admins until 2099-06-30") || !strings.Contains(s, "grace@contoso.com via Ops Leads") {
		t.Errorf("AKS Cluster Admins' detail:\n%s", s)
	}
}

// TestProblemsPanel: on an incomplete view, ! lists each gap with its
// cause and what fixes it, and each warning; any key closes it.
func TestProblemsPanel(t *testing.T) {
	cat := loading.Builtin()
	app := &access.App{Files: []string{"../testdata/demo/cluster.yaml"}, Origin: access.Origin{Files: []string{"cluster.yaml"}},
		Catalog: cat, Resolver: cluster.NewResolver(cat), Namespace: "default"}
	f := start(t, app, 160, 50, Options{})
	f.keys("!")
	m, screen := f.finish()
	s := plain(screen)
	for _, want := range []string{"INCOMPLETE VIEW (! why)", "Problems of this view", "GAP     could not read roles contractor in namespace payments",
		"cause: RoleBinding payments/contractor references it", "fix:   add it to the input (-f), or read the cluster",
		"WARNING the input references 6 of Kubernetes' default roles", "fix:   add the default roles to the input"} {
		if !strings.Contains(s, want) {
			t.Errorf("the Problems panel lacks %q:\n%s", want, s)
		}
	}
	if !m.showProblems {
		t.Error("! did not open the panel")
	}
	f = start(t, app, 160, 50, Options{})
	f.keys("!", "x")
	if m, _ := f.finish(); m.showProblems {
		t.Error("a key did not close the panel")
	}
}

// TestSubjectsGroups: on Subjects, an Entra user's groups are asked of the
// directory off the UI goroutine, said in the detail (the ones the
// cluster names, with their chain; PIM eligibility apart), and the
// matrix counts them: alice's Payments Developers RoleBinding adds the
// payments namespace to her scopes, as what-can says.
func TestSubjectsGroups(t *testing.T) {
	dir, err := identity.LoadDirectory(t.Context(), []string{"../testdata/demo/entra-directory.json"})
	if err != nil {
		t.Fatal(err)
	}
	cat := loading.Builtin()
	app := &access.App{Files: []string{"../testdata/demo/cluster.yaml"}, Origin: access.Origin{Files: []string{"cluster.yaml"}},
		Catalog: cat, Resolver: cluster.NewResolver(cat), Names: dir.Names(), Namespace: "default", People: dir}
	f := start(t, app, 180, 60, Options{})
	f.keys("/")
	f.typeText("alice")
	f.keys("<enter>")
	f.wait(subjectGroupsMsg{})
	m, screen := f.finish()
	s := plain(screen)
	for _, want := range []string{"in 1 Entra group(s) (directory", "1 named by the cluster:", "Payments Developers (direct member)",
		"eligible (PIM), not active: member of SRE On-call"} {
		if !strings.Contains(s, want) {
			t.Errorf("the detail lacks %q:\n%s", want, s)
		}
	}
	p := m.pages[0].(*subjectsPage)
	if !slices.Contains(p.scopes, "payments") || !slices.Contains(p.scopes, "web") {
		t.Errorf("alice's scopes %v: the group's namespace is missing", p.scopes)
	}
}

// TestYAMLOfMarkedLinks: v wherever an object is marked. On Who can's
// detail the marked binding's YAML is shown (and v goes back); a user has
// no object, said so.
func TestYAMLOfMarkedLinks(t *testing.T) {
	f := start(t, offlineApp(t), 160, 50, Options{})
	f.keys("2")
	f.typeText("get secrets -n audit-a")
	f.keys("<enter>", "<enter>", "<down>", "v") // the detail; mark the first path's binding; its YAML
	f.wait(objectMsg{})
	m, screen := f.finish()
	p := m.pages[1].(*whoCanPage)
	if !p.yaml.on || p.yaml.object.ref.Kind == "" || !strings.Contains(plain(screen), "kind: "+p.yaml.object.ref.Kind) {
		t.Errorf("v on a marked %s: yaml %v\n%s", p.yaml.object.ref.Kind, p.yaml.on, plain(screen))
	}
	f = start(t, offlineApp(t), 160, 50, Options{})
	f.keys("2")
	f.typeText("get secrets -n audit-a")
	f.keys("<enter>", "<enter>", "v") // the subject is marked first
	m, screen = f.finish()
	if p := m.pages[1].(*whoCanPage); !p.yaml.on || !strings.Contains(plain(screen), "no objects in the cluster") && p.yaml.object.ref.Kind != "ServiceAccount" {
		t.Errorf("v on a marked subject:\n%s", plain(screen))
	}
}
