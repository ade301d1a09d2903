//go:build integration

package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

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
	"github.com/serverless-shop/backend/internal/budgets"
	"github.com/serverless-shop/backend/internal/testcloud"
	sharedevents "github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/kmskeys"
	"github.com/serverless-shop/backend/shared/sealed"
	"github.com/serverless-shop/backend/shared/token"
	"github.com/serverless-shop/backend/shared/web"
)

// TestAWSCallsPerRequest measures what each users route costs in AWS
// (DynamoDB and KMS) against real tables and keys: the calls, how many run
// one after another, and DynamoDB's read and write units by AWS's rules.
// The budgets (internal/budgets) are today's minimum, each with its
// reason; the test fails when a route exceeds one, or when a budget is not
// measured. With BENCH_CALLS_OUT set it appends the table to that file.
// What a verifier of tokens reads to know the revocations (the feed, one
// Query per execution environment every 10 s, and each user's entries, one
// Query the first time the environment meets the user;
// TestLaunchDayRevocationsAtFiftyThousand measures both) is not a route's
// cost and is left out, as are the gateway's authorizer's calls (none).
func TestAWSCallsPerRequest(t *testing.T) {
	rig := newCallsRig(t)
	rows := rig.journey(t, rig.handler(nil), callsActor{email: "calls@example.com", address: "198.51.100.7"})
	awscalls.Check(t, "users", rows)
}

// callsRig is the users service on tables and keys of its own in the local
// cloud, with a recorder on its DynamoDB and KMS clients.
type callsRig struct {
	ctx                 context.Context
	rec                 *awscalls.Recorder
	shadowDB            *dynamodb.Client // not recorded
	shadowKMS           *kms.Client      // not recorded
	db                  *dynamodb.Client
	keys                *kms.Client
	background          *dynamodb.Client // recorded as background calls
	table, revocations  string
	signingKey, linkKey string
	public              []token.PublicKey
	jwks                []byte
	log                 *slog.Logger
}

func newCallsRig(t *testing.T) *callsRig {
	t.Helper()
	ctx := context.Background()
	cfg := testcloud.Config(t)
	r := &callsRig{ctx: ctx, shadowDB: dynamodb.NewFromConfig(cfg), shadowKMS: kms.NewFromConfig(cfg),
		log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	r.rec = awscalls.New(r.shadowDB)
	r.db = dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, r.rec.APIOption("dynamodb")) })
	r.keys = kms.NewFromConfig(cfg, func(o *kms.Options) { o.APIOptions = append(o.APIOptions, r.rec.APIOption("kms")) })
	r.background = dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, r.rec.BackgroundOption("dynamodb"))
	})

	r.table = testcloud.NewTable(t, r.shadowDB, testcloud.TableSpec{SortKey: true})
	r.revocations = testcloud.NewTable(t, r.shadowDB, testcloud.TableSpec{SortKey: true})
	r.rec.NameTable(r.table, "UsersTable")
	r.rec.NameTable(r.revocations, "RevocationsTable")
	r.signingKey = testcloud.NewKey(t, r.shadowKMS, kmstypes.KeySpecEccNistP256, kmstypes.KeyUsageTypeSignVerify)
	r.linkKey = testcloud.NewKey(t, r.shadowKMS, kmstypes.KeySpecSymmetricDefault, kmstypes.KeyUsageTypeEncryptDecrypt)
	public, err := kmskeys.PublicKeys(ctx, r.shadowKMS, []string{r.signingKey})
	if err != nil {
		t.Fatal(err)
	}
	r.public = public
	if r.jwks, err = token.JWKS(public); err != nil {
		t.Fatal(err)
	}
	return r
}

// handler is a new execution environment of the service, checking tokens
// against the revocation list with revocations (nil: not at all).
func (r *callsRig) handler(revocations web.Revocations) *web.Server {
	return api.NewHandler(r.log, api.Config{
		Service: app.New(app.Config{
			Store:  r.store(),
			Sealer: sealed.NewSealer(r.keys, r.linkKey),
			Issuer: token.NewIssuer(kmskeys.SignerFor(r.keys, r.signingKey, r.public[0].ID), apitest.TokenIssuer, apitest.TokenAudience, 15*time.Minute, nil),
			Log:    r.log, NewID: func() string { return ulid.Make().String() },
		}),
		Verifier: token.NewVerifier(r.public, apitest.TokenIssuer, apitest.TokenAudience, nil),
		JWKS:     r.jwks, Version: testVersion, Revocations: revocations,
	})
}

func (r *callsRig) store() *store.Store { return store.New(r.db, r.table, r.revocations) }

// linkToken opens the token of the newest link event of type typ mailed
// to email, as the notification service does before mailing it.
func (r *callsRig) linkToken(t *testing.T, typ, email string) string {
	t.Helper()
	out, err := r.shadowDB.Scan(r.ctx, &dynamodb.ScanInput{TableName: &r.table})
	if err != nil {
		t.Fatal(err)
	}
	var newest sharedevents.AccountEvent
	for _, item := range out.Items {
		var rec struct {
			PK        string `dynamodbav:"PK"`
			EventType string `dynamodbav:"eventType"`
			Payload   string `dynamodbav:"payload"`
		}
		if err := attributevalue.UnmarshalMap(item, &rec); err != nil || !strings.HasPrefix(rec.PK, store.OutboxPrefix) || rec.EventType != typ {
			continue
		}
		var ev sharedevents.AccountEvent
		if err := json.Unmarshal([]byte(rec.Payload), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Account.Email == email && ev.ID > newest.ID {
			newest = ev
		}
	}
	raw, err := sealed.NewOpener(r.shadowKMS, r.linkKey).Open(r.ctx, newest.Link.SealedToken, newest.SealContext())
	if err != nil {
		t.Fatalf("open the %s link of %s: %v", typ, email, err)
	}
	return string(raw)
}

// callsActor is one user at one client address.
type callsActor struct{ email, address string }

func (a callsActor) String() string { return a.email + "@" + a.address }

// journey makes every measured request once, as who, through h, and
// returns the rows with their budgets (internal/budgets).
func (r *callsRig) journey(t *testing.T, h http.Handler, who callsActor) []awscalls.Row {
	t.Helper()
	do := func(route, body, bearer string) *apitest.Response {
		return send(t, h, route, body, bearer, who.address)
	}
	var tokens struct {
		AccessToken  string `json:"accessToken"`
		RefreshToken string `json:"refreshToken"`
	}
	keep := func(resp *apitest.Response) { resp.JSON(t, &tokens) }
	r.rec.Take() // forget the set-up

	var rows []awscalls.Row
	measure := func(request string, resp *apitest.Response, wantStatus int) {
		t.Helper()
		if resp.StatusCode != wantStatus {
			t.Errorf("%s as %s: status %d, want %d: %s", request, who, resp.StatusCode, wantStatus, resp.Body)
		}
		b, err := budgets.For(request)
		if err != nil {
			t.Error(err)
		}
		rows = append(rows, awscalls.Row{Request: request, Calls: r.rec.Take(), Budget: b})
	}
	const (
		password = "correct horse battery staple"
		newPass  = "another horse battery staple"
	)
	creds := func(pw string) string { return `{"email":"` + who.email + `","password":"` + pw + `"}` }

	measure("GET /v1/health", do("GET /v1/health", "", ""), 200)
	measure("GET /.well-known/jwks.json", do("GET /.well-known/jwks.json", "", ""), 200)
	measure("POST /v1/auth/register", do("POST /v1/auth/register", `{"email":"`+who.email+`","password":"`+password+`","name":"Calls"}`, ""), 201)
	measure("POST /v1/auth/verify-email", do("POST /v1/auth/verify-email", `{"token":"`+r.linkToken(t, sharedevents.AccountVerificationRequested, who.email)+`"}`, ""), 200)
	resp := do("POST /v1/auth/login", creds(password), "")
	keep(resp)
	measure("POST /v1/auth/login", resp, 200)
	measure("POST /v1/auth/login (wrong password)", do("POST /v1/auth/login", creds("not the password at all"), ""), 401)
	resp = do("POST /v1/auth/refresh", `{"refreshToken":"`+tokens.RefreshToken+`"}`, "")
	measure("POST /v1/auth/refresh", resp, 200)
	keep(resp)
	measure("GET /v1/users/me", do("GET /v1/users/me", "", tokens.AccessToken), 200)
	measure("PATCH /v1/users/me", do("PATCH /v1/users/me", `{"name":"Calls Renamed"}`, tokens.AccessToken), 200)
	measure("POST /v1/auth/verify-email/resend", do("POST /v1/auth/verify-email/resend", "", tokens.AccessToken), 202)
	measure("POST /v1/auth/password-reset", do("POST /v1/auth/password-reset", `{"email":"`+who.email+`"}`, ""), 202)
	measure("POST /v1/auth/password-reset/confirm", do("POST /v1/auth/password-reset/confirm",
		`{"token":"`+r.linkToken(t, sharedevents.AccountPasswordResetRequested, who.email)+`","newPassword":"`+newPass+`"}`, ""), 200)
	resp = do("POST /v1/auth/login", creds(newPass), "")
	keep(resp)
	r.rec.Take() // a login measured above
	measure("POST /v1/users/me/password", do("POST /v1/users/me/password", `{"currentPassword":"`+newPass+`","newPassword":"`+password+`"}`, tokens.AccessToken), 204)
	resp = do("POST /v1/auth/login", creds(password), "")
	keep(resp)
	r.rec.Take()
	measure("POST /v1/auth/logout", do("POST /v1/auth/logout", `{"refreshToken":"`+tokens.RefreshToken+`"}`, tokens.AccessToken), 204)
	// A registration cancelled by the reader of its verification email.
	other := "cancel-" + who.email
	if resp := do("POST /v1/auth/register", `{"email":"`+other+`","password":"`+password+`","name":"Calls"}`, ""); resp.StatusCode != 201 {
		t.Fatalf("register %s: %d %s", other, resp.StatusCode, resp.Body)
	}
	r.rec.Take()
	measure("POST /v1/auth/cancel-registration", do("POST /v1/auth/cancel-registration", `{"token":"`+r.linkToken(t, sharedevents.AccountVerificationRequested, other)+`"}`, ""), 204)
	return rows
}

// send makes one request of h from address, with bearer as its access
// token ("" for none).
func send(t *testing.T, h http.Handler, route, body, bearer, address string) *apitest.Response {
	t.Helper()
	method, path, _ := strings.Cut(route, " ")
	var b any
	if body != "" {
		b = body
	}
	req := apitest.NewRequest(method, path, b)
	req.RemoteAddr = address
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return (&apitest.Client{Handler: h}).Do(t, req)
}
