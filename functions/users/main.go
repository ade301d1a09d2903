// Command users is the users service: registration, login, tokens and the
// caller's profile, behind API Gateway, owning the users table.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/oklog/ulid/v2"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/api"
	"github.com/serverless-shop/backend/functions/users/app"
	"github.com/serverless-shop/backend/functions/users/store"
	"github.com/serverless-shop/backend/shared/awsretry"
	"github.com/serverless-shop/backend/shared/coldstart"
	"github.com/serverless-shop/backend/shared/kmskeys"
	"github.com/serverless-shop/backend/shared/metrics"
	"github.com/serverless-shop/backend/shared/revocation"
	"github.com/serverless-shop/backend/shared/sealed"
	"github.com/serverless-shop/backend/shared/token"
	"github.com/serverless-shop/backend/shared/web"
)

func main() { coldstart.Main("users", build) }

// build wires the service from the environment: USERS_TABLE; SIGNING_KEY_ID
// (the KMS key that signs new tokens) and SIGNING_KID (its token key id);
// TOKEN_JWKS (every key whose tokens are accepted, also served as the
// JWKS); TOKEN_ISSUER, TOKEN_AUDIENCE and ACCESS_TOKEN_TTL; LINK_KEY_ID
// (the KMS key that seals the tokens of mailed links); REVOCATIONS_TABLE
// and REVOCATION_REFRESH; the limits LOGIN_ATTEMPTS_PER_SOURCE (free login
// attempts per address), SOURCE_REQUESTS_PER_HOUR (per address, on the
// costly public routes) and LINKS_PER_HOUR (account emails per recipient);
// SES_MAX_24_HOUR_SEND (the account's SES quota, which sizes the hourly cap
// of registration and verification emails: app.AccountMailPerHour) and
// ACCOUNT_MAIL (on, or paused: app.Config.AccountMailPaused).
func build(ctx context.Context, env *coldstart.Env, log *slog.Logger) (any, error) {
	cfg, err := coldstart.AWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	cfg = awsretry.API.Apply(cfg) // see shared/awsretry
	db := dynamodb.NewFromConfig(cfg)
	keys := kms.NewFromConfig(cfg)
	revocations := revocation.ConfigFrom(env)
	kid := env.String("SIGNING_KID")
	tokens := token.ConfigFrom(env)
	accountMail := env.String("ACCOUNT_MAIL")
	appCfg := app.Config{
		Store:                   store.New(db, env.String("USERS_TABLE"), revocations.Table),
		Sealer:                  sealed.NewSealer(keys, env.String("LINK_KEY_ID")),
		Issuer:                  token.NewIssuer(kmskeys.SignerFor(keys, env.String("SIGNING_KEY_ID"), kid), tokens.Issuer, tokens.Audience, tokens.Lifetime, nil),
		SourceThrottle:          account.SourceThrottle,
		SourceRequestsPerHour:   env.Int("SOURCE_REQUESTS_PER_HOUR", app.DefaultSourceRequestsPerHour),
		SourceRequestsPerSecond: env.Int("SOURCE_REQUESTS_PER_SECOND", app.DefaultSourceRequestsPerSecond),
		LinksPerHour:            env.Int("LINKS_PER_HOUR", app.DefaultLinksPerHour),
		AccountMailPerHour:      app.AccountMailPerHour(env.Int("SES_MAX_24_HOUR_SEND", app.DefaultSesMax24HourSend)),
		AccountMailPaused:       accountMail == "paused",
		Metrics:                 metrics.New(os.Stdout, "users"),
		Log:                     log,
		NewID:                   func() string { return ulid.Make().String() },
	}
	appCfg.SourceThrottle.Free = env.Int("LOGIN_ATTEMPTS_PER_SOURCE", account.SourceThrottle.Free)
	if err := env.Err(); err != nil {
		return nil, err
	}
	// ACCOUNT_MAIL, the template's AccountMail, is "on" or "paused" (see
	// app.Config.AccountMailPaused). Anything else is a configuration
	// error: a typo must not leave mail running when an operator meant to
	// pause it.
	if accountMail != "on" && accountMail != "paused" {
		return nil, fmt.Errorf("configuration: ACCOUNT_MAIL is %q, want on or paused", accountMail)
	}
	if !slices.ContainsFunc(tokens.Keys, func(k token.PublicKey) bool { return k.ID == kid }) {
		return nil, fmt.Errorf("configuration: SIGNING_KID %s is not in TOKEN_JWKS; its tokens would not verify", kid)
	}
	jwks, _ := token.JWKS(tokens.Keys) // strings only: it cannot fail
	return web.Lambda(api.NewHandler(log, api.Config{
		Service:     app.New(appCfg),
		Verifier:    tokens.Verifier(),
		Revocations: revocations.Checker(db, log),
		JWKS:        jwks,
		Version:     coldstart.Version,
		Metrics:     appCfg.Metrics,
	})), nil
}
