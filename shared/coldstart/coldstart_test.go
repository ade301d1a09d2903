package coldstart_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/serverless-shop/backend/shared/coldstart"
)

// env returns a getenv over vars.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestEnv(t *testing.T) {
	t.Parallel()
	str := func(e *coldstart.Env) any { return e.String("V") }
	dur := func(e *coldstart.Env) any { return e.Duration("V", 15*time.Minute) }
	num := func(e *coldstart.Env) any { return e.Int("V", 7) }
	opt := func(e *coldstart.Env) any { return e.Optional("V") }
	tests := []struct {
		name    string
		read    func(*coldstart.Env) any
		value   string // of V; unset and empty read the same
		want    any
		wantErr string // "" for none
	}{
		{name: "string trimmed", read: str, value: "  orders\n", want: "orders"},
		{name: "string only whitespace", read: str, value: " \t ", wantErr: "configuration: V is not set"},
		{name: "optional string trimmed", read: opt, value: " shop\n", want: "shop"},
		{name: "duration unset uses default", read: dur, value: "", want: 15 * time.Minute},
		{name: "duration trimmed", read: dur, value: " 5m\n", want: 5 * time.Minute},
		{name: "duration no unit", read: dur, value: "900", wantErr: `configuration: V="900" is not a positive duration`},
		{name: "duration zero", read: dur, value: "0s", wantErr: `configuration: V="0s" is not a positive duration`},
		{name: "int unset uses default", read: num, value: "", want: 7},
		{name: "int words", read: num, value: "many", wantErr: `configuration: V="many" is not a positive integer`},
	}
	for _, tc := range tests {
		e := coldstart.NewEnv(env(map[string]string{"V": tc.value}))
		if got := tc.read(e); tc.wantErr == "" && got != tc.want {
			t.Errorf("%s: read %v, want %v", tc.name, got, tc.want)
		}
		checkErr(t, e.Err(), tc.wantErr)
	}
	if err := coldstart.NewEnv(env(nil)).Err(); err != nil {
		t.Errorf("Err() of an unused Env = %v, want nil", err)
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("Err() = %v, want nil", err)
	case want != "" && (err == nil || err.Error() != want):
		t.Errorf("Err() = %v, want %q", err, want)
	}
}

// ExampleEnv: every problem, in the order met, and nothing of the good
// variables or of unset optional ones.
func ExampleEnv() {
	e := coldstart.NewEnv(func(name string) string {
		return map[string]string{"ORDERS_TABLE": "orders", "ORDERS_PER_HOUR": "20", "ACCESS_TOKEN_TTL": "10x", "LIMIT": "-3"}[name]
	})
	table := e.String("ORDERS_TABLE")
	perHour := e.Int("ORDERS_PER_HOUR", 10)
	_ = e.String("USERS_TABLE")
	_ = e.Duration("ACCESS_TOKEN_TTL", 15*time.Minute)
	_ = e.Duration("REFRESH", time.Minute) // optional: not a problem
	_ = e.Int("LIMIT", 5)
	_ = e.String("TOKEN_ISSUER")
	e.Fail("TOKEN_JWKS", errors.New("no ES256 signing key"))
	fmt.Println(table, perHour)
	fmt.Println(e.Err())
	// Output:
	// orders 20
	// configuration: USERS_TABLE is not set; ACCESS_TOKEN_TTL="10x" is not a positive duration; LIMIT="-3" is not a positive integer; TOKEN_ISSUER is not set; TOKEN_JWKS: no ES256 signing key
}

func TestAWSConfigFailure(t *testing.T) {
	t.Parallel()
	_, err := coldstart.AWSConfig(context.Background(), func(*config.LoadOptions) error { return errors.New("no profile") })
	checkErr(t, err, "load aws config: no profile")
}
