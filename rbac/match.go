// Package rbac is the engine: a snapshot of a cluster's RBAC objects, an
// index over it, and the who-can, what-can and can queries, decided exactly
// as the Kubernetes RBAC authorizer decides and explained as
// binding -> role -> rule paths. It does no I/O.
package rbac

import (
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
)

// The matchers below are ported from Kubernetes v1.37
// (pkg/apis/rbac/v1/evaluation_helpers.go and
// plugin/pkg/auth/authorizer/rbac/rbac.go, Copyright The Kubernetes
// Authors, Apache License 2.0). k8s.io/kubernetes is not meant to be
// imported, so they are copied; keep them letter-for-letter.

func verbMatches(rule *rbacv1.PolicyRule, requestedVerb string) bool {
	for _, ruleVerb := range rule.Verbs {
		if ruleVerb == rbacv1.VerbAll {
			return true
		}
		if ruleVerb == requestedVerb {
			return true
		}
	}
	return false
}

func apiGroupMatches(rule *rbacv1.PolicyRule, requestedGroup string) bool {
	for _, ruleGroup := range rule.APIGroups {
		if ruleGroup == rbacv1.APIGroupAll {
			return true
		}
		if ruleGroup == requestedGroup {
			return true
		}
	}
	return false
}

func resourceMatches(rule *rbacv1.PolicyRule, combinedRequestedResource, requestedSubresource string) bool {
	for _, ruleResource := range rule.Resources {
		// if everything is allowed, we match
		if ruleResource == rbacv1.ResourceAll {
			return true
		}
		// if we have an exact match, we match
		if ruleResource == combinedRequestedResource {
			return true
		}

		// We can also match a */subresource.
		// if there isn't a subresource, then continue
		if len(requestedSubresource) == 0 {
			continue
		}
		// if the rule isn't in the format */subresource, then we don't match, continue
		if len(ruleResource) == len(requestedSubresource)+2 &&
			strings.HasPrefix(ruleResource, "*/") &&
			strings.HasSuffix(ruleResource, requestedSubresource) {
			return true
		}
	}
	return false
}

func resourceNameMatches(rule *rbacv1.PolicyRule, requestedName string) bool {
	if len(rule.ResourceNames) == 0 {
		return true
	}
	for _, ruleName := range rule.ResourceNames {
		if ruleName == requestedName {
			return true
		}
	}
	return false
}

func nonResourceURLMatches(rule *rbacv1.PolicyRule, requestedURL string) bool {
	for _, ruleURL := range rule.NonResourceURLs {
		if ruleURL == rbacv1.NonResourceAll {
			return true
		}
		if ruleURL == requestedURL {
			return true
		}
		if strings.HasSuffix(ruleURL, "*") && strings.HasPrefix(requestedURL, strings.TrimRight(ruleURL, "*")) {
			return true
		}
	}
	return false
}

// RuleAllows reports whether rule allows the request, as the authorizer's
// RuleAllows does.
func RuleAllows(a *Attributes, rule *rbacv1.PolicyRule) bool {
	return ruleAllows(a, combinedResource(a), rule)
}

// combinedResource is "resource/subresource", or the resource alone.
func combinedResource(a *Attributes) string {
	if len(a.Subresource) > 0 {
		return a.Resource + "/" + a.Subresource
	}
	return a.Resource
}

// ruleAllows is RuleAllows with the request's combined resource made once
// (a who-can matches every role's rules against one request).
func ruleAllows(a *Attributes, combinedResource string, rule *rbacv1.PolicyRule) bool {
	if a.IsResourceRequest() {
		return verbMatches(rule, a.Verb) &&
			apiGroupMatches(rule, a.APIGroup) &&
			resourceMatches(rule, combinedResource, a.Subresource) &&
			resourceNameMatches(rule, a.Name)
	}
	return verbMatches(rule, a.Verb) &&
		nonResourceURLMatches(rule, a.Path)
}

// appliesToUser is the authorizer's subject match (rule.go). namespace is the
// binding's namespace, "" for a ClusterRoleBinding: a ServiceAccount subject
// without a namespace defaults to it, and so never matches in a
// ClusterRoleBinding.
func appliesToUser(id *Identity, subject *rbacv1.Subject, namespace string) bool {
	switch subject.Kind {
	case rbacv1.UserKind:
		return id.Name == subject.Name
	case rbacv1.GroupKind:
		return id.inGroup(subject.Name)
	case rbacv1.ServiceAccountKind:
		saNamespace := namespace
		if len(subject.Namespace) > 0 {
			saNamespace = subject.Namespace
		}
		if len(saNamespace) == 0 {
			return false
		}
		return matchesServiceAccountUsername(saNamespace, subject.Name, id.Name)
	default:
		return false
	}
}

// matchesServiceAccountUsername is serviceaccount.MatchesUsername from
// k8s.io/apiserver: username == "system:serviceaccount:" + ns + ":" + name.
func matchesServiceAccountUsername(namespace, name, username string) bool {
	const prefix = "system:serviceaccount:"
	if !strings.HasPrefix(username, prefix) {
		return false
	}
	username = username[len(prefix):]
	if !strings.HasPrefix(username, namespace) {
		return false
	}
	username = username[len(namespace):]
	if !strings.HasPrefix(username, ":") {
		return false
	}
	username = username[1:]
	return username == name
}
