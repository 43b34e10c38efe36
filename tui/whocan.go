package tui

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2/tree"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/identity"
	"github.com/kubectl-access/kubectl-access/internal/safe"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// completionVerbs are the verbs the query line completes first.
var completionVerbs = access.KnownVerbs()

// whoCanPage asks who can make one request: `get secrets -n prod`,
// `create pods/exec -A`, `get /metrics`.
type whoCanPage struct {
	c       *Common
	deps    *deps
	sess    *access.Session
	visited bool
	input   textinput.Model
	list    *list
	detail  detailPane
	lay     split
	query   string
	attrs   rbac.Attributes
	all     bool
	res     *access.WhoCanAnswer
	err     error
	focus   bool
	ran     bool
	dirty   bool
	// verifying: the cluster's authorizer is being asked about res;
	// verr is why it could not be.
	verifying bool
	verr      error
	// history are the queries asked, oldest first; hist is the one shown
	// while walking it (len(history): the line being typed).
	history []string
	hist    int
	draft   string
	// transitive (t) adds who reaches the request through a service
	// account, below the direct answer.
	transitive bool
	// members (e) lists who is in the answer's Entra groups and who may
	// activate membership (PIM), asked of the directory off the UI
	// goroutine; expanding while it is asked.
	members, expanding bool
	// links are the objects the detail can go to (the subject, then each
	// path's binding and role); link is the one marked; v shows its YAML.
	links []jumpMsg
	link  int
	yaml  linkYAML
}

func newWhoCanPage(c *Common, d *deps) *whoCanPage {
	in := textinput.New()
	in.Prompt = "who can "
	in.Placeholder = "get secrets -n prod   |   create pods/exec -A   |   get /metrics"
	in.ShowSuggestions = true
	// up and down walk the query history; ctrl+n and ctrl+p the
	// completions (tab takes one).
	in.KeyMap.NextSuggestion = key.NewBinding(key.WithKeys("ctrl+n"))
	in.KeyMap.PrevSuggestion = key.NewBinding(key.WithKeys("ctrl+p"))
	in.KeyMap.DeleteBeforeCursor = c.Keys.Erase
	in.KeyMap.AcceptSuggestion = c.Keys.Complete
	p := &whoCanPage{c: c, deps: d, input: in, detail: newDetailPane(true), res: &access.WhoCanAnswer{}}
	p.list = newList(c.Styles,
		column{title: "KIND", width: 5},
		column{title: "NAME", flex: true},
		column{title: "WHERE", width: 14},
		column{title: "PATHS", width: 5},
	)
	return p
}

func (p *whoCanPage) title() string { return "Who can" }
func (p *whoCanPage) badge() string { return "" }

// enter gives the query line the keyboard on the first visit.
func (p *whoCanPage) enter() tea.Cmd {
	first := !p.visited
	p.visited = true
	if first && !p.ran {
		return p.focusInput()
	}
	return nil
}

func (p *whoCanPage) typing() bool { return p.input.Focused() }

// focusInput gives the query line the keyboard (the page opens on it).
func (p *whoCanPage) focusInput() tea.Cmd {
	p.focus = false
	return p.input.Focus()
}

func (p *whoCanPage) setSession(s *access.Session) {
	p.sess, p.dirty = s, true
}

func (p *whoCanPage) audited() {}

// build answers the last question again on the new session.
func (p *whoCanPage) build() {
	if !p.dirty || p.sess == nil {
		return
	}
	p.dirty = false
	if p.ran {
		p.run()
	}
	p.suggest()
}

func (p *whoCanPage) setSize(w, h int) {
	p.input.SetWidth(max(w-len(p.input.Prompt)-2, 10))
	p.lay = layout(p.c, w, h-3) // query line, its status line, a blank
	p.list.setSize(p.lay.listW, p.lay.listH)
	p.list.top = headerLines + 3
	p.detail.setSize(p.lay.detailW, p.lay.detailH)
	p.syncDetail(false)
}

func (p *whoCanPage) help() []key.Binding {
	k := p.c.Keys
	if p.input.Focused() {
		keys := []key.Binding{as(k.Enter, "ask")}
		if p.input.CurrentSuggestion() != "" {
			keys = append(keys, k.Complete)
		}
		if len(p.input.MatchedSuggestions()) > 1 {
			keys = append(keys, key.NewBinding(key.WithKeys("ctrl+n", "ctrl+p"), key.WithHelp("ctrl+n/p", "other completions")))
		}
		if len(p.history) > 0 {
			keys = append(keys, key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑/↓", "queries asked")))
		}
		return append(keys, as(k.Back, "to the results"), k.Erase, editKeys)
	}
	query := as(k.Filter, "new query")
	var own []key.Binding
	if p.ran {
		own = []key.Binding{k.Transitive, k.Members, k.Verify}
	}
	if p.focus {
		top, bottom := p.detail.ends()
		var d []key.Binding
		switch {
		case p.yaml.on:
			d = append(d, as(k.YAML, "back to the detail"))
		case len(p.links) > 1:
			if p.link > 0 {
				d = append(d, as(k.Up, "mark up"))
			}
			if p.link < len(p.links)-1 {
				d = append(d, as(k.Down, "mark down"))
			}
			d = append(d, goTo, k.YAML)
		case len(p.links) == 1:
			d = append(d, goTo, k.YAML)
		}
		if p.yaml.on || len(p.links) <= 1 {
			if !top {
				d = append(d, as(k.Up, "scroll up"))
			}
			if !bottom {
				d = append(d, as(k.Down, "scroll down"))
			}
		}
		d = append(d, either("esc/←", "back to the list", k.Back, k.Left), query)
		d = append(d, own...)
		return append(d, pageKeys(k, top, bottom)...)
	}
	step, page := p.list.moveKeys(k)
	keys := append(step, query)
	if _, ok := p.list.selected(); ok {
		keys = append(keys, either("enter/→", "open detail", k.Enter, k.Right))
	}
	keys = append(keys, own...)
	return append(keys, page...)
}

func (p *whoCanPage) mode() string {
	switch {
	case p.input.Focused():
		return "typing a query"
	case p.focus && p.yaml.on:
		return "YAML"
	case p.focus:
		return "detail"
	}
	return "list"
}

func (p *whoCanPage) status() string {
	if !p.ran {
		return "type a request and press enter"
	}
	if p.members {
		return "subjects " + p.list.position() + " · groups' members beside (e hides)"
	}
	return "subjects " + p.list.position()
}

func (p *whoCanPage) update(msg tea.Msg) tea.Cmd {
	k := p.c.Keys
	if p.input.Focused() {
		if km, ok := msg.(tea.KeyPressMsg); ok {
			switch {
			case key.Matches(km, k.Enter):
				p.query = p.input.Value()
				if q := strings.TrimSpace(p.query); q != "" && (len(p.history) == 0 || p.history[len(p.history)-1] != q) {
					p.history = append(p.history, q)
				}
				p.hist = len(p.history)
				p.run()
				p.input.Blur()
				return p.expand()
			case key.Matches(km, k.Up), key.Matches(km, k.Down):
				if km.String() == "k" || km.String() == "j" {
					break // letters of a query
				}
				p.walkHistory(key.Matches(km, k.Up))
				return nil
			case key.Matches(km, k.Back):
				p.input.Blur()
				return nil
			}
		}
		var cmd tea.Cmd
		before := p.input.Value()
		p.input, cmd = p.input.Update(msg)
		if p.input.Value() != before {
			p.suggest()
		}
		return cmd
	}
	if v, ok := msg.(whoCanVerifiedMsg); ok {
		p.verified(v)
		return nil
	}
	if v, ok := msg.(whoCanMembersMsg); ok {
		p.expanded(v)
		return nil
	}
	if o, ok := msg.(objectMsg); ok {
		if p.yaml.take(o) {
			p.syncDetail(false)
		}
		return nil
	}
	if km, ok := msg.(tea.KeyPressMsg); ok && p.focus && key.Matches(km, k.YAML) {
		cmd := p.yaml.toggle(p.sess, p.deps.ctx, p.links, p.link)
		p.syncDetail(true)
		return cmd
	}
	if km, ok := msg.(tea.KeyPressMsg); ok && p.focus && !p.yaml.on {
		// The marked object on its page (esc comes back).
		if cmd, moved, handled := linkKeys(km, k, p.links, &p.link); handled {
			if moved {
				p.syncDetail(false)
			}
			return cmd
		}
	}
	if km, ok := msg.(tea.KeyPressMsg); ok {
		switch {
		case key.Matches(km, k.Verify):
			return p.verify()
		case key.Matches(km, k.Transitive) && p.ran:
			p.transitive = !p.transitive
			p.run()
			return p.expand()
		case key.Matches(km, k.Members) && p.ran:
			p.members = !p.members
			if !p.members {
				p.run()
				return nil
			}
			return p.expand()
		case key.Matches(km, k.Filter):
			return p.focusInput()

		case key.Matches(km, k.Enter), key.Matches(km, k.Right):
			if _, ok := p.list.selected(); !ok || p.focus {
				return nil
			}
			p.focus = true
			p.list.focused = false
			p.link = 0
			p.syncDetail(false)
			return nil
		case key.Matches(km, k.Back), key.Matches(km, k.Left):
			if p.focus {
				p.focus, p.yaml.on = false, false
				p.list.focused = true
				p.syncDetail(false)
			}
			return nil
		}
	}
	if c, ok := msg.(tea.MouseClickMsg); ok {
		if p.list.click(c.Mouse()) {
			p.focus, p.list.focused = false, true
			p.syncDetail(true)
		}
		return nil
	}
	if p.focus {
		p.detail.update(msg, k)
		return nil
	}
	if p.list.update(msg, k) {
		p.syncDetail(true)
	}
	return nil
}

// walkHistory shows the previous (up) or next query asked; past the
// newest, the line that was being typed.
func (p *whoCanPage) walkHistory(up bool) {
	if len(p.history) == 0 {
		return
	}
	if p.hist == len(p.history) {
		p.draft = p.input.Value()
	}
	switch {
	case up && p.hist > 0:
		p.hist--
	case !up && p.hist < len(p.history):
		p.hist++
	default:
		return
	}
	v := p.draft
	if p.hist < len(p.history) {
		v = p.history[p.hist]
	}
	p.input.SetValue(v)
	p.input.CursorEnd()
	p.suggest()
}

// parseQuery reads VERB RESOURCE [NAME] [-n NS | -A] as the CLI does.
func parseQuery(s string) (access.Request, error) {
	var q access.Request
	var pos []string
	words := strings.Fields(s)
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch {
		case w == "-A" || w == "--all-namespaces":
			q.AllNamespaces = true
		case w == "-n" || w == "--namespace":
			if i+1 >= len(words) {
				return q, errors.New("-n needs a namespace")
			}
			i++
			q.Namespace, q.NamespaceSet = words[i], true
		case strings.HasPrefix(w, "-n="), strings.HasPrefix(w, "--namespace="):
			_, q.Namespace, _ = strings.Cut(w, "=")
			q.NamespaceSet = true
		case strings.HasPrefix(w, "-"):
			return q, errors.New("unknown flag " + w + ": the query line takes -n NAMESPACE and -A")
		default:
			pos = append(pos, w)
		}
	}
	switch len(pos) {
	case 2:
		q.Verb, q.Resource = pos[0], pos[1]
	case 3:
		q.Verb, q.Resource, q.Name = pos[0], pos[1], pos[2]
	default:
		return q, errors.New("write VERB RESOURCE [NAME] [-n NAMESPACE | -A], e.g. get secrets -n prod")
	}
	return q, nil
}

// run answers the query with the application layer, over the session in
// memory: milliseconds even on the largest clusters, so it runs in
// Update, as a filter does.
func (p *whoCanPage) run() {
	p.ran = true
	p.err, p.verr, p.verifying = nil, nil, false
	q, err := parseQuery(p.query)
	if err == nil && p.sess != nil {
		var ans *access.WhoCanAnswer
		if ans, err = p.sess.WhoCan(p.deps.ctx, q); err == nil {
			if p.transitive {
				p.sess.Transitive(ans)
			}
			p.res, p.attrs, p.all = ans, ans.Query.Attributes, q.AllNamespaces
		}
	}
	p.err = err
	if err != nil {
		p.res = &access.WhoCanAnswer{}
	}
	p.setRows()
	p.list.cursor, p.list.offset = 0, 0
	p.syncDetail(true)
}

// setRows lists the answer's subjects, each marked with the cluster's
// word once verified.
func (p *whoCanPage) setRows() {
	names := p.names()
	rows := make([]row, len(p.res.Subjects))
	for i, g := range p.res.Subjects {
		name := g.Name
		if g.Kind == rbac.GroupKind {
			name = groupCell(names, name)
		}
		switch g.Verified {
		case access.VerifiedAgreed:
			name += "  ✓ verified"
		case access.VerifiedDisagreed:
			name += "  ✗ the cluster disagrees"
		}
		if g.Broad != "" {
			name += "  (" + g.Broad + ")"
		}
		if g.Kind == rbac.ServiceAccountKind {
			name = g.Namespace + ":" + name
		}
		kind := kindWord(g.Kind)
		where := access.Where(g.Via)
		rows[i] = row{cells: []string{kind, safe.Terminal(name), safe.Terminal(where), itoa(len(g.Via))},
			search: strings.ToLower(kind + " " + name + " " + where)}
	}
	for _, g := range p.res.Transitive {
		name := g.Name
		if g.Kind == rbac.ServiceAccountKind {
			name = g.Namespace + ":" + name
		}
		name += "  → " + g.ServiceAccount.String()
		if g.Identity != nil {
			name += " → " + access.IdentityWords(g.Identity)
		}
		kind := "↳" + kindWord(g.Kind)
		rows = append(rows, row{cells: []string{kind, safe.Terminal(name), "via " + safe.Terminal(g.ServiceAccount.Namespace), itoa(len(g.StepVia) + len(g.Via))},
			search: strings.ToLower(kind + " " + name + " transitive")})
	}
	// The ways in through Azure's control plane, apart from the
	// authorizer's answer, as the CLI lists them.
	for i := range p.res.AzureDoors {
		d := &p.res.AzureDoors[i]
		name := p.names().Subject(d.Subject)
		if d.Subject.DisplayName != "" {
			name += " (" + d.Subject.DisplayName + ")"
		}
		name += "  " + d.Kind
		rows = append(rows, row{cells: []string{"⇢az", safe.Terminal(name), "Azure", "1"},
			search: strings.ToLower("az " + name + " azure " + d.Kind)})
	}
	p.list.setRows(rows)
}

// verify asks the cluster's authorizer about the answer shown, off the
// UI goroutine, on a copy (the answer on screen changes only in Update).
func (p *whoCanPage) verify() tea.Cmd {
	if !p.ran || p.err != nil || p.verifying || p.sess == nil {
		return nil
	}
	p.verifying, p.verr = true, nil
	ans := *p.res
	ans.Subjects = slices.Clone(p.res.Subjects)
	sess, ctx, query := p.sess, p.deps.ctx, p.query
	return func() tea.Msg {
		err := sess.VerifyWhoCan(ctx, &ans, access.VerifyOptions{})
		return whoCanVerifiedMsg{sess: sess, query: query, ans: &ans, err: err}
	}
}

// expand asks the directory who is in the answer's groups (and who may
// activate membership), when e is on, off the UI goroutine on a copy:
// Microsoft Graph is a network away.
func (p *whoCanPage) expand() tea.Cmd {
	if !p.members || !p.ran || p.err != nil || p.sess == nil || p.sess.App.People == nil {
		p.syncDetail(false)
		return nil
	}
	p.expanding = true
	ans := *p.res
	ans.Warnings = slices.Clone(p.res.Warnings)
	sess, ctx, query := p.sess, p.deps.ctx, p.query
	return func() tea.Msg {
		sess.ExpandGroups(ctx, &ans, access.DefaultMemberLimit)
		sess.Eligible(ctx, &ans)
		return whoCanMembersMsg{sess: sess, query: query, ans: &ans}
	}
}

// expanded takes the directory's answer, if it is about the answer shown.
func (p *whoCanPage) expanded(msg whoCanMembersMsg) {
	if msg.sess != p.sess || msg.query != p.query || !p.members {
		return
	}
	p.expanding = false
	p.res.Members, p.res.Eligible = msg.ans.Members, msg.ans.Eligible
	p.res.Warnings, p.res.Incomplete = msg.ans.Warnings, msg.ans.Incomplete
	p.syncDetail(false)
}

// verified takes the cluster's word, if it is about the answer shown.
func (p *whoCanPage) verified(msg whoCanVerifiedMsg) {
	if msg.sess != p.sess || msg.query != p.query || !p.verifying {
		return
	}
	p.verifying = false
	if msg.err != nil {
		p.verr = msg.err
		return
	}
	p.res = msg.ans
	p.setRows()
	p.syncDetail(false)
}

func (p *whoCanPage) names() identity.Names {
	if p.sess == nil {
		return nil
	}
	return p.sess.App.Names
}

func (p *whoCanPage) syncDetail(top bool) {
	if p.yaml.on && p.focus {
		p.detail.setContent(p.yaml.render(p.c.Styles), top)
		return
	}
	if !p.ran || p.sess == nil {
		p.detail.setContent(styleLines(p.c.Styles.Muted, whoCanIntro), true)
		return
	}
	st := p.c.Styles
	i, ok := p.list.selected()
	if !ok {
		p.detail.setContent(st.Muted.Render("nobody"), true)
		return
	}
	sel := -1
	if p.focus {
		sel = p.link
	}
	// The subject first, marked like a link when it is the one.
	subjectLine := func(s rbac.Subject, text string) string {
		p.links = []jumpMsg{{subject: &s}}
		if sel == 0 {
			return st.Bold.Render("› " + text)
		}
		return st.Bold.Render(text)
	}
	var body string
	if j := i - len(p.res.Subjects) - len(p.res.Transitive); j >= 0 && j < len(p.res.AzureDoors) {
		d := &p.res.AzureDoors[j]
		title := subjectLine(d.Subject, safe.Terminal(p.names().Subject(d.Subject))) + " " + safe.Terminal(d.What)
		t := tree.Root(safe.Terminal(access.DoorAssignment(d))).Child(tree.Root(safe.Terminal(access.DoorRole(d))).Child(safe.Terminal(access.DoorStep(d))))
		body = title + "\n\n" + st.Muted.Render("Through Azure's control plane, apart from the authorizer's answer:") + "\n" + t.String()
		if len(d.Via) > 0 {
			grant, links := provenanceLinks(st, "the identity it signs in as may "+safe.Terminal(p.attrs.String()), d.Via, sel, 1)
			p.links = append(p.links, links...)
			body += "\n\n" + grant
		}
	} else if i >= len(p.res.Subjects) {
		g := p.res.Transitive[i-len(p.res.Subjects)]
		title := subjectLine(g.Subject(), safe.Terminal(p.names().Subject(g.Subject()))) + " may " + safe.Terminal(g.Step+" in "+g.ServiceAccount.Namespace) +
			", and so act as " + safe.Terminal(g.ServiceAccount.String()) + ", which may " + safe.Terminal(p.attrs.String())
		step, l1 := provenanceLinks(st, "the step: "+safe.Terminal(g.Step), g.StepVia, sel, 1)
		acct, l2 := provenanceLinks(st, "the account's grant", g.Via, sel, 1+len(l1))
		p.links = append(append(p.links, l1...), l2...)
		body = title + "\n\n" + step + "\n\n" + acct
	} else {
		g := p.res.Subjects[i]
		where := p.asked().Scope()
		if p.all {
			where = access.WhereWords(g.Via)
		}
		title := subjectLine(g.Subject(), safe.Terminal(p.names().Subject(g.Subject())))
		text, links := provenanceLinks(st, title+" may "+safe.Terminal(p.attrs.String()+" "+where), g.Via, sel, 1)
		p.links = append(p.links, links...)
		body = verificationBlock(st, p.res.Verification) + text
		if g.Kind == rbac.GroupKind {
			body += p.groupPeople(g.Name)
		}
	}
	if p.focus {
		body += "\n\n" + st.Muted.Render("↑↓ choose, enter: go to it (esc comes back)")
	}
	p.detail.setContent(body, top)
	if p.focus {
		scrollToMark(&p.detail, body)
	}
}

// groupPeople is who is in a group and who may activate membership of
// it, as the directory said (e), for the group's detail.
func (p *whoCanPage) groupPeople(group string) string {
	st := p.c.Styles
	switch {
	case !p.members:
		return ""
	case p.sess == nil || p.sess.App.People == nil:
		return "\n\n" + st.Muted.Render("who is in the group is not known: no directory to ask (sign in with Entra ID for Microsoft Graph, or start with --directory FILE from kubectl access snapshot --entra)")
	case p.expanding:
		return "\n\n" + st.Muted.Render("asking "+safe.Terminal(p.peopleSource())+" who is in the group…")
	}
	var b strings.Builder
	for i := range p.res.Members {
		m := &p.res.Members[i]
		if m.Group.ID != group {
			continue
		}
		b.WriteString("\n\n" + st.Bold.Render("Members: "+safe.Terminal(access.MembersSummary(m))))
		for _, x := range m.Members {
			b.WriteString("\n  " + safe.Terminal(access.MemberLine(x, p.names())))
		}
		if m.Truncated {
			b.WriteString("\n  " + st.Muted.Render(fmt.Sprintf("… %d listed of %d (kubectl access who-can --expand-groups --member-limit N lists more)", len(m.Members), m.Total)))
		}
	}
	var el []string
	for i := range p.res.Eligible {
		e := &p.res.Eligible[i]
		if e.Group.ID == group || e.Through != nil && e.Through.ID == group {
			el = append(el, safe.Terminal(e.Principal.Label()+" may activate "+e.AccessID+" of "+cmp.Or(e.Group.DisplayName, e.Group.ID)+" "+e.Until()))
		}
	}
	if len(el) > 0 {
		b.WriteString("\n\n" + st.Warning.Render("Eligible through PIM, not active:"))
		for _, l := range el {
			b.WriteString("\n  " + l)
		}
	}
	if b.Len() == 0 {
		return "\n\n" + st.Muted.Render("no members read for this group (see the warnings)")
	}
	return b.String()
}

// peopleSource names the directory asked.
func (p *whoCanPage) peopleSource() string {
	if p.sess == nil || p.sess.App.People == nil {
		return "the directory"
	}
	return p.sess.App.People.Source()
}

const whoCanIntro = `Ask who may make a request, exactly as the API server's RBAC authorizer decides:

  get secrets -n prod            in one namespace
  get secrets db-password -n prod   one object
  create pods/exec -A            in any namespace (RoleBindings everywhere count)
  get /metrics                   a non-resource URL
  patch deployments.apps/scale   a subresource

tab completes verbs, resources and namespaces; enter asks.`

// suggest offers completions of the word being typed: a verb first, then
// a resource, a namespace after -n, else the flags.
func (p *whoCanPage) suggest() {
	if p.sess == nil {
		return
	}
	v := p.input.Value()
	words := strings.Fields(v)
	prefix, cur := v, ""
	if !strings.HasSuffix(v, " ") && len(words) > 0 {
		cur = words[len(words)-1]
		prefix = v[:len(v)-len(cur)]
	} else if len(words) == 0 {
		prefix = ""
	}
	n := len(words)
	if cur != "" {
		n--
	}
	var cands []string
	switch {
	case n > 0 && (words[n-1] == "-n" || words[n-1] == "--namespace"):
		cands = p.sess.Namespaces()
	case n == 0:
		cands = completionVerbs
	case n == 1:
		cands = p.sess.App.Catalog.Names()
	default:
		cands = []string{"-n", "-A"}
	}
	var out []string
	for _, c := range cands {
		if strings.HasPrefix(c, cur) && c != cur {
			out = append(out, prefix+c)
			if len(out) == 200 {
				break
			}
		}
	}
	slices.Sort(out)
	p.input.SetSuggestions(out)
}

func (p *whoCanPage) view() string {
	st := p.c.Styles
	var b strings.Builder
	b.WriteString(p.input.View() + "\n")
	v := p.res.Verification
	switch {
	case p.err != nil:
		b.WriteString(st.Error.Render("error: " + safe.Error(p.err)))
	case p.verifying:
		b.WriteString(st.Muted.Render("asking the cluster's authorizer (SubjectAccessReviews)…"))
	case p.verr != nil:
		b.WriteString(st.Error.Render("not verified: " + safe.Error(p.verr)))
	case v != nil && !v.Agrees():
		b.WriteString(st.Error.Render(fmt.Sprintf("NOT VERIFIED: the cluster decided %d of %d requests otherwise (beside)", len(v.Disagreements), v.Checked)))
	case p.ran && p.res.Incomplete && len(p.sess.Gaps()) == 0 && p.sess.AzureRBACPending():
		b.WriteString(st.Incomplete.Render("INCOMPLETE: Azure RBAC decides after RBAC here and its role assignments are not read; Entra identities it allows are not listed"))
	case p.ran && p.res.Incomplete:
		b.WriteString(st.Incomplete.Render("INCOMPLETE: " + rbac.IncompleteCause(p.res.Warnings) + "; more subjects may be allowed"))
	case len(access.QuestionWarnings(p.res.Warnings)) > 0:
		var msgs []string
		for _, w := range access.QuestionWarnings(p.res.Warnings) {
			msgs = append(msgs, w.Message)
		}
		b.WriteString(st.Warning.Render("warning: " + safe.Terminal(strings.Join(msgs, "; "))))
	case p.ran:
		line := p.attrs.String() + " " + p.asked().Scope() + ": " + itoa(len(p.res.Subjects)) + " subjects"
		if p.transitive {
			line += ", and " + itoa(len(p.res.Transitive)) + " chains through service accounts (↳; t hides)"
		} else {
			line += " directly (t: through service accounts too)"
		}
		if n := len(p.res.AzureDoors); n > 0 {
			line += ", and " + itoa(n) + " through Azure's control plane (⇢az)"
		}
		switch {
		case p.expanding:
			line += "; reading the groups' members…"
		case p.members:
			line += "; members and PIM-eligible of each group beside it (e hides)"
		default:
			line += "; e: who is in each group"
		}
		if v != nil {
			line += fmt.Sprintf("; verified: the cluster agreed on all %d requests", v.Checked)
		} else if len(p.res.Subjects) > 0 && p.sess.App.Live() {
			line += "; V verifies with the cluster"
		}
		b.WriteString(st.Muted.Render(safe.Terminal(line)))
	}
	b.WriteString("\n\n")
	b.WriteString(p.lay.join(st, p.list.view(), p.detail.view(), p.focus))
	return b.String()
}

// verificationBlock tells the cluster's disagreements, each with the
// server's reason, above a detail ("" when there are none).
func verificationBlock(st *Styles, v *access.Verification) string {
	if v.Agrees() {
		return ""
	}
	var b strings.Builder
	b.WriteString(st.Error.Render(fmt.Sprintf("The cluster's authorizer decided %d of %d requests otherwise:", len(v.Disagreements), v.Checked)) + "\n")
	for _, d := range v.Disagreements {
		where := ""
		if d.Request.Namespace != "" {
			where = " in " + d.Request.Namespace
		}
		b.WriteString(safe.Terminal(fmt.Sprintf("• %s %s%s: here %s, the cluster %s: %s", d.Subject, d.Request.String(), where, d.Ours, d.Server, d.Reason)) + "\n")
	}
	if v.Sampled != "" {
		b.WriteString(st.Muted.Render(safe.Terminal(v.Sampled)) + "\n")
	}
	return b.String() + "\n"
}

// asked is the question the page answers, for its scope's words.
func (p *whoCanPage) asked() access.WhoCanQuery {
	return access.WhoCanQuery{Attributes: p.attrs, AllNamespaces: p.all}
}

// Navigation: what a jump to this page, and back from it, asks of it.

// atTop: nothing of the page's own to step back from (see listPage.atTop).
func (p *whoCanPage) atTop() bool { return !p.focus && !p.input.Focused() }
