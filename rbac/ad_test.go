package rbac

import "testing"

func TestIsSID(t *testing.T) {
	for s, want := range map[string]bool{
		"S-1-5-21-3623811015-3361044348-30300820-1013": true,
		"s-1-5-21-3623811015-3361044348-30300820-1013": true,  // Windows reads either case
		"S-1-5-21-3623811015-3361044348-30300820":      false, // a domain, not an account
		"S-1-5-21-1-2-3-4-5":                           false,
		"S-1-5-32-544":                                 true, // BUILTIN\Administrators
		"S-1-1-0":                                      true, // Everyone
		"S-1-5-18":                                     true, // Local System
		"S-1-5":                                        false,
		"S-2-5-18":                                     false,
		"S-1-5-018":                                    false,
		"S-1-5-4294967296":                             false, // a subauthority past 32 bits
		"S-1-281474976710656-1":                        false, // an authority past 48 bits
		"S-1-5--1":                                     false,
		"S-1-5-21-1-2-3-x":                             false,
		"S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15":    true,
		"S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16": false,
		"0d1b1bd6-52b4-4d2c-9a0e-2d5b8f7c1a11":         false,
		"":                                             false,
	} {
		if got := IsSID(s); got != want {
			t.Errorf("IsSID(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestADAccount(t *testing.T) {
	for _, tc := range []struct {
		in              string
		domain, account string
		ok, ad          bool
	}{
		{`microsoft:activedirectory:CONTOSO\alice`, "CONTOSO", "alice", true, true},
		{`microsoft:activedirectory:CONTOSO\Domain Admins`, "CONTOSO", "Domain Admins", true, true},
		{`Microsoft:ActiveDirectory:contoso\bob`, "contoso", "bob", true, true},
		{"microsoft:activedirectory:S-1-5-21-1-2-3-1013", "", "", false, true},
		{"S-1-5-21-1-2-3-1013", "", "", false, true},
		{`microsoft:activedirectory:alice`, "", "", false, false},
		{`microsoft:activedirectory:\alice`, "", "", false, false},
		{`microsoft:activedirectory:A\B\C`, "", "", false, false},
		{`CONTOSO\alice`, "", "", false, false},
		{"alice@contoso.com", "", "", false, false},
	} {
		d, a, ok := ADAccount(tc.in)
		if d != tc.domain || a != tc.account || ok != tc.ok {
			t.Errorf("ADAccount(%q) = %q, %q, %v", tc.in, d, a, ok)
		}
		if got := IsAD(tc.in); got != tc.ad {
			t.Errorf("IsAD(%q) = %v, want %v", tc.in, got, tc.ad)
		}
	}
}

// TestADSubjects: AD users and SID groups round-trip through the command
// line's form, and are never taken for Entra identities (no "Entra groups
// unknown", no Azure RBAC caveat).
func TestADSubjects(t *testing.T) {
	for _, s := range []string{`user:microsoft:activedirectory:CONTOSO\alice`, "group:S-1-5-21-3623811015-3361044348-30300820-1013",
		`group:microsoft:activedirectory:CONTOSO\SREGroup`, `user:microsoft:activedirectory:contoso\bob@contoso.com`} {
		sub, err := ParseSubject(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if sub.String() != s {
			t.Errorf("%s printed as %s", s, sub)
		}
		id := sub.Identity()
		if id.MayBeEntra() {
			t.Errorf("%s may be Entra's", s)
		}
	}
	if sub, _ := ParseSubject(`user:microsoft:activedirectory:CONTOSO\alice`); sub.Kind != UserKind || sub.Name != `microsoft:activedirectory:CONTOSO\alice` {
		t.Errorf("parsed %+v", sub)
	}
}
