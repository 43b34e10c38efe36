package rbac

import (
	"strconv"
	"strings"
)

// AKS hybrid's Active Directory single sign-on: the ad-auth-webhook
// authenticates Kerberos tickets (kubectl-adsso) and names users and
// groups microsoft:activedirectory:DOMAIN\name, which `kubectl-adsso
// nametosid` turns into security identifiers before a binding is applied
// (https://learn.microsoft.com/azure/aks/hybrid/ad-sso, "Create and update
// the AD group role binding"). Neither form is an Entra identity: guard
// has no opinion on them and Entra groups never hold them.

// ADPrefix starts an AD user or group name in RBAC subjects.
const ADPrefix = "microsoft:activedirectory:"

// IsSID says whether s is a Windows security identifier in its string
// form, strictly: S-1-AUTHORITY-SUB... with 1 to 15 decimal
// subauthorities (each below 2^32, the authority below 2^48, no leading
// zeros); a domain identity S-1-5-21-a-b-c-RID has exactly the domain's
// three subauthorities and a RID; well-known forms such as S-1-1-0 and
// S-1-5-32-544 are SIDs too
// (https://learn.microsoft.com/windows-server/identity/ad-ds/manage/understand-security-identifiers).
func IsSID(s string) bool {
	if len(s) < len("S-1-0-0") || (s[0] != 'S' && s[0] != 's') || s[1:4] != "-1-" {
		return false
	}
	parts := strings.Split(s[4:], "-")
	if len(parts) < 2 || len(parts) > 16 {
		return false
	}
	for i, p := range parts {
		max := uint64(1)<<32 - 1
		if i == 0 {
			max = uint64(1)<<48 - 1
		}
		if p == "" || len(p) > 1 && p[0] == '0' {
			return false
		}
		for _, c := range p {
			if c < '0' || c > '9' {
				return false
			}
		}
		if v, err := strconv.ParseUint(p, 10, 64); err != nil || v > max {
			return false
		}
	}
	if parts[0] == "5" && parts[1] == "21" {
		return len(parts) == 6 // S-1-5-21-a-b-c-RID
	}
	return true
}

// ADAccount splits microsoft:activedirectory:DOMAIN\name into its domain
// and account; ok is false for anything else (a SID included).
func ADAccount(name string) (domain, account string, ok bool) {
	rest, found := cutPrefixFold(name, ADPrefix)
	if !found {
		return "", "", false
	}
	domain, account, found = strings.Cut(rest, `\`)
	if !found || domain == "" || account == "" || strings.Contains(account, `\`) {
		return "", "", false
	}
	return domain, account, true
}

// IsAD says whether a user or group name is an Active Directory identity
// of AKS hybrid: microsoft:activedirectory:DOMAIN\name, or a SID, bare or
// after the prefix.
func IsAD(name string) bool {
	if _, _, ok := ADAccount(name); ok {
		return true
	}
	if rest, ok := cutPrefixFold(name, ADPrefix); ok {
		return IsSID(rest)
	}
	return IsSID(name)
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return "", false
	}
	return s[len(prefix):], true
}
