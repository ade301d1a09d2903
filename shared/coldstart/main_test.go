package coldstart_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"testing"

	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/shared/coldstart"
	"github.com/serverless-shop/backend/shared/principal"
)

func TestTokensVerifyWhatTheConfiguredKeySigned(t *testing.T) {
	t.Parallel()
	auth, stranger := apitest.NewAuth(t), apitest.NewAuth(t)
	e := coldstart.NewEnv(env(map[string]string{
		"TOKEN_JWKS": auth.JWKS(t), "TOKEN_ISSUER": apitest.TokenIssuer, "TOKEN_AUDIENCE": apitest.TokenAudience,
	}))
	tokens := e.Tokens()
	if err := e.Err(); err != nil {
		t.Fatal(err)
	}
	if tokens.Issuer != apitest.TokenIssuer || tokens.Audience != apitest.TokenAudience || len(tokens.Keys) != 1 {
		t.Fatalf("Tokens = %+v", tokens)
	}
	p := principal.Principal{UserID: "u1", Email: "a@example.com"}
	if c, err := tokens.Verifier().Verify(auth.Token(t, p)); err != nil || c.Subject != "u1" {
		t.Fatalf("Verify = %+v, %v", c, err)
	}
	if _, err := tokens.Verifier().Verify(stranger.Token(t, p)); err == nil {
		t.Fatal("a token signed by a key outside TOKEN_JWKS was accepted")
	}
}

func TestTokensNamesEveryMissingSetting(t *testing.T) {
	t.Parallel()
	e := coldstart.NewEnv(env(nil))
	_ = e.Tokens()
	checkErr(t, e.Err(), "configuration: TOKEN_JWKS is not set; TOKEN_ISSUER is not set; TOKEN_AUDIENCE is not set")
}

// TestMainExitsWhenBuildFails runs Main in a child process (it exits) and
// checks that a failed build ends the process with status 1 and one JSON
// log line that says why.
func TestMainExitsWhenBuildFails(t *testing.T) {
	if os.Getenv("COLDSTART_MAIN_CHILD") == "1" {
		coldstart.Main("svc", func(context.Context, *coldstart.Env, *slog.Logger) (any, error) {
			return nil, errors.New("configuration: TABLE is not set")
		})
		return // not reached: Main exits
	}
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^TestMainExitsWhenBuildFails$")
	cmd.Env = append(os.Environ(), "COLDSTART_MAIN_CHILD=1")
	out, err := cmd.Output()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("child: err = %v, want exit status 1; stdout:\n%s", err, out)
	}
	var line struct {
		Level, Message, Service, Error string
	}
	if err := json.Unmarshal(out, &line); err != nil {
		t.Fatalf("stdout is not one JSON log line: %v\n%s", err, out)
	}
	if line.Level != "ERROR" || line.Message != "cold start failed" || line.Service != "svc" || line.Error != "configuration: TABLE is not set" {
		t.Fatalf("log line = %+v", line)
	}
}
