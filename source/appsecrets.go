package source

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/kubectl-access/kubectl-access/azurerbac"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// A service principal's secrets offline: when they expire, from the JSON
// of `az ad app credential list --id APPID` (an array of Graph's
// passwordCredential: keyId, displayName, startDateTime, endDateTime,
// hint, secretText null) or of `az ad app show --id APPID` / `az ad sp
// show --id APPID` (the application or service principal, with appId and
// passwordCredentials). Only ids, names and ends are kept, never a
// value or its hint.

// appJSON says whether data is one application or service principal as
// az ad app show or az ad sp show print it: an object with appId and
// passwordCredentials and no apiVersion or type.
func appJSON(data []byte) bool {
	t := bytes.TrimLeft(data, " \t\r\n\ufeff")
	if len(t) == 0 || t[0] != '{' {
		return false
	}
	var probe struct {
		AppID       string          `json:"appId"`
		Credentials json.RawMessage `json:"passwordCredentials"`
		APIVersion  json.RawMessage `json:"apiVersion"`
		Type        json.RawMessage `json:"type"`
	}
	return json.Unmarshal(t, &probe) == nil && probe.AppID != "" && probe.Credentials != nil && probe.APIVersion == nil && probe.Type == nil
}

// appFile reads one application's (or service principal's) password
// credentials.
func (l *loader) appFile(name string, data []byte) error {
	var app struct {
		AppID       string `json:"appId"`
		Credentials []struct {
			KeyID       string `json:"keyId"`
			DisplayName string `json:"displayName"`
			End         string `json:"endDateTime"`
		} `json:"passwordCredentials"`
	}
	if err := json.Unmarshal(bytes.TrimLeft(data, "\ufeff"), &app); err != nil {
		return fmt.Errorf("%s: not an application as az ad app show gives it: %v", name, err)
	}
	var xs []azurerbac.AppSecret
	for i, c := range app.Credentials {
		x, err := appSecret(c.KeyID, c.DisplayName, c.End)
		if err != nil {
			return fmt.Errorf("%s: passwordCredentials[%d]: %v", name, i, err)
		}
		xs = append(xs, x)
	}
	l.addSecrets(app.AppID, name, xs...)
	l.azureFiles++
	l.identityFiles++ // says nothing of guard's assignments
	return nil
}

func appSecret(keyID, displayName, end string) (azurerbac.AppSecret, error) {
	x := azurerbac.AppSecret{KeyID: keyID, DisplayName: displayName}
	if keyID == "" {
		return x, fmt.Errorf("a password credential needs its keyId")
	}
	if end != "" {
		t, err := time.Parse(time.RFC3339, end)
		if err != nil {
			return x, fmt.Errorf("password credential %s: endDateTime %q is not a date (RFC 3339)", keyID, end)
		}
		x.End = &t
	}
	return x, nil
}

// addSecrets keeps secrets read from file for appID ("" when the file
// does not say).
func (l *loader) addSecrets(appID, file string, xs ...azurerbac.AppSecret) {
	for i := range l.secrets {
		if s := &l.secrets[i]; strings.EqualFold(s.AppID, appID) && s.From == file {
			s.Secrets = append(s.Secrets, xs...)
			return
		}
	}
	l.secrets = append(l.secrets, azurerbac.AppSecrets{AppID: appID, From: file, Secrets: xs})
}

// finishSecrets gives the cluster's service principal the secrets read
// of its app: those of a file naming its appId, else those of a file
// naming no app (az ad app credential list), said in a warning. Secrets
// of another app are said unused.
func (l *loader) finishSecrets() {
	if len(l.secrets) == 0 {
		return
	}
	var mc *azurerbac.ManagedCluster
	if d := l.snap.Azure; d != nil {
		mc = d.Cluster
	}
	if mc == nil || !mc.UsesServicePrincipal() {
		l.warnings = append(l.warnings, rbac.Warnf(rbac.WarnAzureRBAC, "application secrets were read (%s), but the managed cluster read uses no service principal: they are not used", l.secrets[0].From))
		return
	}
	var mine, anon []azurerbac.AppSecrets
	for _, s := range l.secrets {
		switch {
		case strings.EqualFold(s.AppID, mc.ServicePrincipal):
			mine = append(mine, s)
		case s.AppID == "":
			anon = append(anon, s)
		default:
			l.warnings = append(l.warnings, rbac.Warnf(rbac.WarnAzureRBAC, "%s holds the secrets of app %s, not of the cluster's service principal %s: they are not used", s.From, s.AppID, mc.ServicePrincipal))
		}
	}
	if len(mine) == 0 && len(anon) > 0 {
		mine = anon
		l.warnings = append(l.warnings, rbac.Warnf(rbac.WarnAzureRBAC, "%s names no app: its secrets are taken as those of the cluster's service principal %s (az ad app credential list --id %s)", anon[0].From, mc.ServicePrincipal, mc.ServicePrincipal))
	}
	if len(mine) == 0 {
		return
	}
	out := &azurerbac.AppSecrets{AppID: mc.ServicePrincipal}
	var from []string
	for _, s := range mine {
		out.Secrets = append(out.Secrets, s.Secrets...)
		from = append(from, s.From)
	}
	out.From = strings.Join(from, ", ")
	mc.ServicePrincipalSecrets = out
}
