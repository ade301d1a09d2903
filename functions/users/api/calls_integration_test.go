//go:build integration

package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/oklog/ulid/v2"

	"github.com/serverless-shop/backend/functions/users/api"
	"github.com/serverless-shop/backend/functions/users/app"
	"github.com/serverless-shop/backend/functions/users/store"
	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/internal/awscalls"
	"github.com/serverless-shop/backend/internal/testcloud"
	sharedevents "github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/kmskeys"
	"github.com/serverless-shop/backend/shared/outbox"
	"github.com/serverless-shop/backend/shared/sealed"
	"github.com/serverless-shop/backend/shared/token"
)

// TestAWSCallsPerRequest measures what each users route costs in AWS
// (DynamoDB and KMS) against real tables and keys: the calls, how many run
// one after another, and DynamoDB's read and write units by AWS's rules.
// The budgets are today's minimum, each with its reason; the test fails
// when a route exceeds one. With BENCH_CALLS_OUT set it appends the table
// to that file. What a verifier of tokens reads to know the revocations
// (the feed, one Query per execution environment every 10 s, and each
// user's entries, one Query the first time the environment meets the
// user; TestLaunchDayRevocationsAtFiftyThousand measures both) is not a
// route's cost and is left out, as are the gateway's authorizer's calls
// (none).
func TestAWSCallsPerRequest(t *testing.T) {
	ctx := context.Background()
	cfg := testcloud.Config(t)
	shadowDB := dynamodb.NewFromConfig(cfg)
	shadowKMS := kms.NewFromConfig(cfg)
	rec := awscalls.New(shadowDB)
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, rec.APIOption("dynamodb")) })
	keys := kms.NewFromConfig(cfg, func(o *kms.Options) { o.APIOptions = append(o.APIOptions, rec.APIOption("kms")) })

	table := testcloud.NewTable(t, shadowDB, testcloud.TableSpec{SortKey: true})
	revocations := testcloud.NewTable(t, shadowDB, testcloud.TableSpec{SortKey: true})
	signingKey := testcloud.NewKey(t, shadowKMS, kmstypes.KeySpecEccNistP256, kmstypes.KeyUsageTypeSignVerify)
	linkKey := testcloud.NewKey(t, shadowKMS, kmstypes.KeySpecSymmetricDefault, kmstypes.KeyUsageTypeEncryptDecrypt)
	public, err := kmskeys.PublicKeys(ctx, shadowKMS, []string{signingKey})
	if err != nil {
		t.Fatal(err)
	}
	jwks, err := token.JWKS(public)
	if err != nil {
		t.Fatal(err)
	}
	st := store.New(db, table, revocations)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := api.NewHandler(log, api.Config{
		Service: app.New(app.Config{
			Accounts: st, Sessions: st, Attempts: st, Links: st, Requests: st,
			Sealer: sealed.NewSealer(keys, linkKey),
			Issuer: token.NewIssuer(kmskeys.SignerFor(keys, signingKey, public[0].ID), testIssuer, testAudience, 15*time.Minute, nil),
			Log:    log, NewID: func() string { return ulid.Make().String() },
		}),
		Verifier: token.NewVerifier(public, testIssuer, testAudience, nil),
		JWKS:     jwks, Version: testVersion,
	})

	// linkToken opens the token of the newest link event of type typ, as
	// the notification service does before mailing it.
	linkToken := func(typ string) string {
		t.Helper()
		out, err := shadowDB.Scan(ctx, &dynamodb.ScanInput{TableName: &table})
		if err != nil {
			t.Fatal(err)
		}
		var newest sharedevents.AccountEvent
		for _, item := range out.Items {
			var r struct {
				PK        string `dynamodbav:"PK"`
				EventType string `dynamodbav:"eventType"`
				Payload   string `dynamodbav:"payload"`
			}
			if err := attributevalue.UnmarshalMap(item, &r); err != nil || !strings.HasPrefix(r.PK, outbox.Prefix) || r.EventType != typ {
				continue
			}
			var ev sharedevents.AccountEvent
			if err := json.Unmarshal([]byte(r.Payload), &ev); err != nil {
				t.Fatal(err)
			}
			if ev.ID > newest.ID {
				newest = ev
			}
		}
		raw, err := sealed.NewOpener(shadowKMS, linkKey).Open(ctx, newest.Link.SealedToken, newest.SealContext())
		if err != nil {
			t.Fatalf("open the %s link: %v", typ, err)
		}
		return string(raw)
	}
	do := func(route, body, bearer string) events.APIGatewayProxyResponse {
		t.Helper()
		resp, err := h.Handle(ctx, apitest.Request{Route: route, Body: body, Bearer: bearer}.Event())
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	var tokens struct {
		AccessToken  string `json:"accessToken"`
		RefreshToken string `json:"refreshToken"`
	}
	keep := func(r events.APIGatewayProxyResponse) {
		t.Helper()
		if err := json.Unmarshal([]byte(r.Body), &tokens); err != nil {
			t.Fatal(err)
		}
	}
	rec.Take() // forget the set-up

	var rows []awscalls.Row
	measure := func(request string, r events.APIGatewayProxyResponse, wantStatus int, b awscalls.Budget) {
		t.Helper()
		if r.StatusCode != wantStatus {
			t.Errorf("%s: status %d, want %d: %s", request, r.StatusCode, wantStatus, r.Body)
		}
		rows = append(rows, awscalls.Row{Request: request, Calls: rec.Take(), Budget: b})
	}
	const (
		email    = "calls@example.com"
		password = "correct horse battery staple"
		newPass  = "another horse battery staple"
	)
	creds := func(pw string) string { return `{"email":"` + email + `","password":"` + pw + `"}` }

	measure("GET /v1/health", do("GET /v1/health", "", ""), 200, awscalls.Budget{
		Why: "answers from the function's own configuration"})
	measure("GET /.well-known/jwks.json", do("GET /.well-known/jwks.json", "", ""), 200, awscalls.Budget{
		Why: "the public keys come with the configuration, rendered at cold start"})
	measure("POST /v1/auth/register", do("POST /v1/auth/register", `{"email":"`+email+`","password":"`+password+`","name":"Calls"}`, ""), 201,
		awscalls.Budget{Calls: 4, Rounds: 3, WCU: 10,
			Why: "count the request against its address's second and hour (two UpdateItems at once); seal the verification link's token for the mailer (KMS Encrypt); one transaction: email claim, user, pending link, outbox event (2 WCU each)"})
	measure("POST /v1/auth/verify-email", do("POST /v1/auth/verify-email", `{"token":"`+linkToken(sharedevents.AccountVerificationRequested)+`"}`, ""), 204,
		awscalls.Budget{Calls: 4, Rounds: 3, RCU: 2, WCU: 6,
			Why: "count the request against its address's second and hour (two UpdateItems at once); read the pending link and its user (consistent BatchGetItem); one transaction: use the link, mark the email verified"})
	r := do("POST /v1/auth/login", creds(password), "")
	keep(r)
	measure("POST /v1/auth/login", r, 200, awscalls.Budget{Calls: 6, Rounds: 6, RCU: 4, WCU: 8,
		Why: "read the email's claim, the account's bucket and the address's failures (consistent BatchGetItem; a missing item priced at the minimum) and the user (GetItem); without a device token of the account, count the request against its address's second (UpdateItem); take the attempt before checking the password (conditional UpdateItem); sign the access token (KMS Sign); one transaction: session, bucket cleared, device token. A success is not counted against the address's failures"})
	measure("POST /v1/auth/login (wrong password)", do("POST /v1/auth/login", creds("not the password at all"), ""), 401,
		awscalls.Budget{Calls: 5, Rounds: 5, RCU: 4, WCU: 3,
			Why: "the same reads and counts, the attempt taken (UpdateItem) before the password is checked, and the failure counted against the address after it (one atomic UpdateItem: many people behind one address never contend for it)"})
	r = do("POST /v1/auth/refresh", `{"refreshToken":"`+tokens.RefreshToken+`"}`, "")
	measure("POST /v1/auth/refresh", r, 200, awscalls.Budget{Calls: 3, Rounds: 3, RCU: 2, WCU: 4,
		Why: "read the family, with its refreshes of the hour, and its user (consistent BatchGetItem); sign the new access token (KMS Sign); rotate the family and count the refresh (transaction). Limited per session, not per address"})
	keep(r)
	measure("GET /v1/users/me", do("GET /v1/users/me", "", tokens.AccessToken), 200, awscalls.Budget{Calls: 1, Rounds: 1, RCU: 1,
		Why: "one consistent GetItem"})
	measure("PATCH /v1/users/me", do("PATCH /v1/users/me", `{"name":"Calls Renamed"}`, tokens.AccessToken), 200, awscalls.Budget{Calls: 1, Rounds: 1, WCU: 1,
		Why: "one conditional UpdateItem returning the new profile"})
	measure("POST /v1/auth/verify-email/resend", do("POST /v1/auth/verify-email/resend", "", tokens.AccessToken), 202, awscalls.Budget{Calls: 1, Rounds: 1, RCU: 1,
		Why: "read the user: verified already, nothing to send"})
	measure("POST /v1/auth/password-reset", do("POST /v1/auth/password-reset", `{"email":"`+email+`"}`, ""), 202, awscalls.Budget{Calls: 6, Rounds: 5, RCU: 2, WCU: 8,
		Why: "count the request against its address's second and hour (two UpdateItems at once); read the email's claim, then the user (GetItem each, the same time whether or not the account exists); seal the link's token (KMS Encrypt); one transaction: pending link, outbox event, link quota"})
	measure("POST /v1/auth/password-reset/confirm", do("POST /v1/auth/password-reset/confirm",
		`{"token":"`+linkToken(sharedevents.AccountPasswordResetRequested)+`","newPassword":"`+newPass+`"}`, ""), 204,
		awscalls.Budget{Calls: 4, Rounds: 3, RCU: 2, WCU: 14,
			Why: "count the request against its address's second and hour (two UpdateItems at once); read the pending link and its user (BatchGetItem); one transaction: use the link, set the hash and verify the email, drop a pending verification link, clear the login attempts, write the revocation under the user and in the feed (2 WCU each)"})
	r = do("POST /v1/auth/login", creds(newPass), "")
	keep(r)
	rec.Take() // a login measured above
	measure("POST /v1/users/me/password", do("POST /v1/users/me/password", `{"currentPassword":"`+newPass+`","newPassword":"`+password+`"}`, tokens.AccessToken), 204,
		awscalls.Budget{Calls: 6, Rounds: 6, RCU: 4, WCU: 10,
			Why: "read the user (GetItem); the current password is a login attempt: read the throttle's state (BatchGetItem, and the user again) and take the attempt (UpdateItem); one transaction: set the hash, end the sessions, write the revocation under the user and in the feed, count it against the user's revocations of the hour; clear the attempts (DeleteItem). The second read of the user could go"})
	r = do("POST /v1/auth/login", creds(password), "")
	keep(r)
	rec.Take()
	measure("POST /v1/auth/logout", do("POST /v1/auth/logout", `{"refreshToken":"`+tokens.RefreshToken+`"}`, tokens.AccessToken), 204,
		awscalls.Budget{Calls: 1, Rounds: 1, WCU: 8,
			Why: "one transaction: end the family if not ended already (a replay writes nothing), write the revocation under the user and in the feed, count it against the user's revocations of the hour"})

	awscalls.Check(t, "users", rows)
}
