package contract_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/serverless-shop/backend/internal/iampolicy"
	"github.com/serverless-shop/backend/shared/events"
)

// keyAccount is the account the key policies are resolved for.
const keyAccount = "123456789012"

// stackKeys is what template.yaml makes of the KMS keys of one stack in
// keyAccount: each key's ARN and policy, and each function's role ARN and
// the kms statements of its policies.
type stackKeys struct {
	keyARN    map[string]string           // key logical id → ARN
	keyPolicy map[string]iampolicy.Policy // key logical id → its key policy
	roleARN   map[string]string           // function logical id → its role's ARN
	kmsPolicy map[string]iampolicy.Policy // function logical id → its kms: statements
}

// loadStackKeys resolves the template's key policies and the functions'
// kms statements for the stack named stack, with the parameters' defaults
// overridden by params. A function's role is the one SAM generates,
// <LogicalId>Role: CloudFormation names it <stack>-<LogicalId>Role-<13
// characters>, shortened to IAM's 64 characters for a long stack name (how
// is not modelled: the name is cut), under the function's RolePath.
func loadStackKeys(t *testing.T, stack string, params map[string]string) stackKeys {
	t.Helper()
	e := stackTemplate(t, "template.yaml", stack, "eu-west-1", keyAccount, params)
	ids, byID := resources(t)
	s := stackKeys{keyARN: map[string]string{}, keyPolicy: map[string]iampolicy.Policy{},
		roleARN: map[string]string{}, kmsPolicy: map[string]iampolicy.Policy{}}
	for id := range ofType(t, "AWS::KMS::Key") {
		s.keyARN[id] = fmt.Sprintf("arn:aws:kms:eu-west-1:%s:key/%s", keyAccount, idToken(stack, id)[:8]+"-0000-4000-8000-"+idToken(stack, id)[8:20])
		e.ARNs[id] = s.keyARN[id]
	}
	for _, id := range ids {
		res := byID[id]
		props := mapping(res, "Properties")
		switch scalar(mapping(res, "Type")) {
		case "AWS::KMS::Key":
			v, err := e.Resolve(mapping(props, "KeyPolicy"))
			if err != nil {
				t.Fatalf("%s KeyPolicy: %v", id, err)
			}
			p, err := iampolicy.Parse(id, v)
			if err != nil {
				t.Fatal(err)
			}
			s.keyPolicy[id] = p
		case "AWS::Serverless::Function":
			path := "/"
			if n := mapping(props, "RolePath"); n != nil {
				v, err := e.Resolve(n)
				if err != nil {
					t.Fatalf("%s RolePath: %v", id, err)
				}
				path = fmt.Sprint(v)
			}
			name := stack + "-" + id + "Role"
			if len(name) > 64-14 {
				name = name[:64-14]
			}
			s.roleARN[id] = fmt.Sprintf("arn:aws:iam::%s:role%s%s-%s", keyAccount, path, name, strings.ToUpper(idToken(stack, id)[:13]))
			// Only the kms statements: the others use what the resolver
			// does not know (AWS::NoValue) and do not matter here.
			var stmts []any
			for _, st := range statements(props) {
				if !slices.ContainsFunc(scalars(mapping(st, "Action")), func(a string) bool { return strings.HasPrefix(strings.ToLower(a), "kms:") }) {
					continue
				}
				v, err := e.Resolve(st)
				if err != nil {
					t.Fatalf("%s policy statement: %v", id, err)
				}
				stmts = append(stmts, v)
			}
			if len(stmts) > 0 {
				p, err := iampolicy.Parse(id, map[string]any{"Statement": stmts})
				if err != nil {
					t.Fatal(err)
				}
				s.kmsPolicy[id] = p
			}
		}
	}
	return s
}

// keyRequest is action on a key by the principal arn, with the encryption
// context ec (nil: none), as KMS builds its request context.
func keyRequest(action, keyARN, arn string, ec map[string]string) iampolicy.Request {
	ctx := map[string][]string{"aws:PrincipalArn": {arn}}
	if ec != nil {
		ctx["kms:EncryptionContextKeys"] = slices.Sorted(maps.Keys(ec))
		for k, v := range ec {
			ctx["kms:EncryptionContext:"+k] = []string{v}
		}
	}
	return iampolicy.Request{Action: action, Resource: keyARN, Principal: arn, Context: ctx,
		Known: []string{"aws:PrincipalArn", "kms:EncryptionContext:*", "kms:EncryptionContextKeys"}}
}

// sealContexts are the encryption contexts the users service seals link
// tokens under and the notification function opens them with: one per
// account event type, from shared/events.
func sealContexts() map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, typ := range []string{events.AccountVerificationRequested, events.AccountPasswordResetRequested} {
		out[typ] = events.AccountEvent{
			Header:  events.Header{Type: typ, Version: events.Version, ID: "01JEVT0000000000000000001"},
			Account: events.Account{ID: "01JUSR0000000000000000001", Email: "ada@example.com"},
			Link:    events.Link{ExpiresAt: time.Date(2026, 12, 6, 9, 30, 0, 0, time.UTC)},
		}.SealContext()
	}
	return out
}

// allKMS is an identity policy that allows every KMS action on every key:
// what a careless grant, or an administrator's role, gives.
var allKMS = iampolicy.Policy{Name: "kms:* on *", Statements: []iampolicy.Statement{{Effect: "Allow", Action: []string{"kms:*"}, Resource: []string{"*"}}}}

// TestFunctionKeyPermissionsAreDelegated checks that every kms: action a
// function's policy allows on a key of the template is one the key's policy
// lets that function's role do, with the encryption context the code sends
// (shared/events' SealContext for Encrypt and Decrypt), so the functions
// keep working under the key policies; for each signing key as the active
// one.
func TestFunctionKeyPermissionsAreDelegated(t *testing.T) {
	checked := 0
	for _, active := range []string{"A", "B"} {
		s := loadStackKeys(t, "serverless-shop-dev", map[string]string{"ActiveSigningKey": active})
		keyOf := map[string]string{} // ARN -> logical id
		for id, arn := range s.keyARN {
			keyOf[arn] = id
		}
		for _, fn := range slices.Sorted(maps.Keys(s.kmsPolicy)) {
			pol := s.kmsPolicy[fn]
			for _, st := range pol.Statements {
				for _, action := range st.Action {
					for _, keyARN := range st.Resource {
						key, ok := keyOf[keyARN]
						if !ok {
							t.Errorf("%s allows %s on %s, no key of the template", fn, action, keyARN)
							continue
						}
						contexts := map[string]map[string]string{"no context": nil}
						if action == "kms:Encrypt" || action == "kms:Decrypt" {
							contexts = sealContexts()
						}
						for what, ec := range contexts {
							checked++
							req := keyRequest(action, keyARN, s.roleARN[fn], ec)
							if got := iampolicy.EvaluateKeyPolicy(req, s.keyPolicy[key], pol); got.Decision != iampolicy.Allowed {
								t.Errorf("ActiveSigningKey=%s: %s (role %s) needs %s on %s (%s): %s %s", active, fn, s.roleARN[fn], action, key, what, got.Decision, got.Why)
							}
						}
					}
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no function uses a KMS key of the template")
	}
}

// TestKeyPoliciesLimitUseToTheRoles evaluates the key policies of the
// signing keys and the link key (iampolicy.EvaluateKeyPolicy; the local
// cloud does not enforce key policies) for the roles of a stack: only the
// users function's role may sign and seal link tokens, only the
// notification function's may open them, each only with the encryption
// context shared/events gives a link token (every key of it, no other), and
// no other role of the account may do any of it even with an IAM policy
// that allows kms:* on *, nor give itself the use with a grant. It does so for a stack name long enough that
// CloudFormation shortens the roles' generated names, and for the rotated
// signing key too.
func TestKeyPoliciesLimitUseToTheRoles(t *testing.T) {
	long := "shop-" + strings.Repeat("x", 100)
	for _, stack := range []string{"serverless-shop-prod", long} {
		s := loadStackKeys(t, stack, nil)
		users, notifications := s.roleARN["UsersFunction"], s.roleARN["NotificationsFunction"]
		if users == "" || notifications == "" || s.keyPolicy["LinkKey"].Statements == nil {
			t.Fatalf("the template has no UsersFunction, NotificationsFunction or LinkKey")
		}
		role := func(name string) string { return fmt.Sprintf("arn:aws:iam::%s:role/%s", keyAccount, name) }
		others := map[string]string{
			"the orders function's role":                       s.roleARN["OrdersFunction"],
			"the users relay's role":                           s.roleARN["UsersRelayFunction"],
			"an administrator's role":                          role("Admin"),
			"a role named like the users function's, no path":  role(stack + "-UsersFunctionRole-ABCDEFGHIJKLM"),
			"a role of the stack <stack>-users":                role(stack + "-users-UsersFunctionRole-ABCDEFGHIJKLM"),
			"the notification function's role in another acct": strings.Replace(notifications, keyAccount, "210987654321", 1),
		}
		ec := sealContexts()[events.AccountPasswordResetRequested]
		with := func(key, v string) map[string]string { // v "": without key
			out := maps.Clone(ec)
			out[key] = v
			if v == "" {
				delete(out, key)
			}
			return out
		}
		legacy := map[string]string{"eventType": ec["eventType"], "eventId": ec["eventId"], "accountId": ec["accountId"]}

		type check struct {
			what     string
			action   string
			key      string
			arn      string
			identity iampolicy.Policy
			ec       map[string]string
			allowed  bool
		}
		checks := []check{
			{"the users role signs with key A", "kms:Sign", "SigningKeyA", users, s.kmsPolicy["UsersFunction"], nil, true},
			{"the users role may sign with key B once it is active", "kms:Sign", "SigningKeyB", users, allKMS, nil, true},
			{"the users role seals a link token", "kms:Encrypt", "LinkKey", users, s.kmsPolicy["UsersFunction"], ec, true},
			{"the notifications role opens a link token", "kms:Decrypt", "LinkKey", notifications, s.kmsPolicy["NotificationsFunction"], ec, true},
			{"the publickeys role reads key A's public key", "kms:GetPublicKey", "SigningKeyA", s.roleARN["PublicKeysFunction"], s.kmsPolicy["PublicKeysFunction"], nil, true},
			{"the publickeys role reads key B's public key", "kms:GetPublicKey", "SigningKeyB", s.roleARN["PublicKeysFunction"], s.kmsPolicy["PublicKeysFunction"], nil, true},

			{"the users role may not open a link token", "kms:Decrypt", "LinkKey", users, allKMS, ec, false},
			{"the notifications role may not sign", "kms:Sign", "SigningKeyA", notifications, allKMS, nil, false},
			{"the notifications role may not seal", "kms:Encrypt", "LinkKey", notifications, allKMS, ec, false},
			{"the users role may not generate data keys with the link key", "kms:GenerateDataKey", "LinkKey", users, allKMS, ec, false},
			{"the users role may not seal without a context", "kms:Encrypt", "LinkKey", users, allKMS, nil, false},
			{"the users role may not seal under the context before the recipient was bound", "kms:Encrypt", "LinkKey", users, allKMS, legacy, false},
			{"the notifications role may not open without a context", "kms:Decrypt", "LinkKey", notifications, allKMS, nil, false},
			{"the notifications role may not open under the context before the recipient was bound", "kms:Decrypt", "LinkKey", notifications, allKMS, legacy, false},
			{"the notifications role may not open a token of another purpose", "kms:Decrypt", "LinkKey", notifications, allKMS, with(events.SealPurpose, "change-email"), false},
			{"the notifications role may not open a token with a context key more", "kms:Decrypt", "LinkKey", notifications, allKMS, with("note", "x"), false},
		}
		for _, key := range slices.Sorted(maps.Keys(events.AccountEvent{}.SealContext())) {
			checks = append(checks,
				check{"the users role may not seal without " + key, "kms:Encrypt", "LinkKey", users, allKMS, with(key, ""), false},
				check{"the notifications role may not open without " + key, "kms:Decrypt", "LinkKey", notifications, allKMS, with(key, ""), false})
		}
		for _, key := range []string{"SigningKeyA", "SigningKeyB", "LinkKey"} {
			checks = append(checks, check{"no one may grant the use of " + key + " (the users role with kms:* on *)", "kms:CreateGrant", key, users, allKMS, nil, false},
				check{"no one may grant the use of " + key + " (an administrator's role with kms:* on *)", "kms:CreateGrant", key, role("Admin"), allKMS, nil, false})
		}
		for who, arn := range others {
			checks = append(checks,
				check{who + " may not sign with key A", "kms:Sign", "SigningKeyA", arn, allKMS, nil, false},
				check{who + " may not sign with key B", "kms:Sign", "SigningKeyB", arn, allKMS, nil, false},
				check{who + " may not seal a link token", "kms:Encrypt", "LinkKey", arn, allKMS, ec, false},
				check{who + " may not open a link token", "kms:Decrypt", "LinkKey", arn, allKMS, ec, false})
		}
		for _, c := range checks {
			got := iampolicy.EvaluateKeyPolicy(keyRequest(c.action, s.keyARN[c.key], c.arn, c.ec), s.keyPolicy[c.key], c.identity)
			// A refusal must be proven: "not proven" is no refusal.
			refused := got.Decision == iampolicy.ImplicitDeny || got.Decision == iampolicy.ExplicitDeny
			if c.allowed != (got.Decision == iampolicy.Allowed) || !c.allowed && !refused {
				by := ""
				if got.Statement != nil {
					by = " by " + got.Statement.String()
				}
				t.Errorf("stack of %d characters: %s: %s %s on %s with IAM %q: %s%s %s", len(stack), c.what, c.arn, c.action, c.key, c.identity.Name, got.Decision, by, got.Why)
			}
		}
	}
}
