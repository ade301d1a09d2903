package coldstart_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"testing"

	"github.com/serverless-shop/backend/shared/coldstart"
)

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
