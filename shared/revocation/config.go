package revocation

import (
	"log/slog"
	"time"

	"github.com/serverless-shop/backend/shared/coldstart"
	"github.com/serverless-shop/backend/shared/ddb"
)

// Config is where the revocations of access tokens are read, and how often.
type Config struct {
	Table   string
	Refresh time.Duration
}

// ConfigFrom reads REVOCATIONS_TABLE and REVOCATION_REFRESH (optional,
// DefaultRefresh).
func ConfigFrom(env *coldstart.Env) Config {
	return Config{Table: env.String("REVOCATIONS_TABLE"), Refresh: env.Duration("REVOCATION_REFRESH", DefaultRefresh)}
}

// Checker returns the checker of these settings, reading the table
// through db.
func (c Config) Checker(db ddb.QueryAPI, log *slog.Logger) *Checker {
	return NewChecker(NewTable(db, c.Table), c.Refresh, log)
}
