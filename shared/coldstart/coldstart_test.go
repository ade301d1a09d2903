package coldstart_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/serverless-shop/backend/shared/coldstart"
)

// env returns a getenv over vars.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		vars    map[string]string
		want    string
		wantErr string // "" for none
	}{
		{name: "set", vars: map[string]string{"TABLE": "orders"}, want: "orders"},
		{name: "trimmed", vars: map[string]string{"TABLE": "  orders\n"}, want: "orders"},
		{name: "inner space kept", vars: map[string]string{"TABLE": "a b"}, want: "a b"},
		{name: "unset", vars: nil, wantErr: "configuration: TABLE is not set"},
		{name: "empty", vars: map[string]string{"TABLE": ""}, wantErr: "configuration: TABLE is not set"},
		{name: "only whitespace", vars: map[string]string{"TABLE": " \t "}, wantErr: "configuration: TABLE is not set"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := coldstart.NewEnv(env(tc.vars))
			if got := e.String("TABLE"); got != tc.want {
				t.Errorf("String = %q, want %q", got, tc.want)
			}
			checkErr(t, e.Err(), tc.wantErr)
		})
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

func TestEnvCollectsEveryProblem(t *testing.T) {
	t.Parallel()
	e := coldstart.NewEnv(env(map[string]string{
		"PRESENT": "yes",
		"TTL":     "soon",
		"LIMIT":   "-3",
		"MANY":    "many",
	}))
	_ = e.String("USERS_TABLE")
	_ = e.String("PRESENT")
	_ = e.List("VERIFY_KEY_IDS")
	_ = e.Duration("TTL", time.Minute)
	_ = e.Duration("UNSET_TTL", time.Minute) // optional: not a problem
	_ = e.Int("LIMIT", 5)
	_ = e.Int("MANY", 5)
	_ = e.Int("UNSET_LIMIT", 5)
	_ = e.String("TOKEN_AUDIENCE")

	err := e.Err()
	if err == nil {
		t.Fatal("Err() = nil, want every problem")
	}
	want := `configuration: USERS_TABLE is not set; VERIFY_KEY_IDS is not set; TTL="soon" is not a positive duration; LIMIT="-3" is not a positive integer; MANY="many" is not a positive integer; TOKEN_AUDIENCE is not set`
	if err.Error() != want {
		t.Errorf("Err() =\n%s\nwant\n%s", err, want)
	}
	if strings.Contains(err.Error(), "PRESENT") || strings.Contains(err.Error(), "UNSET_TTL") {
		t.Errorf("Err() names a good variable: %v", err)
	}
}

func TestEnvNoProblems(t *testing.T) {
	t.Parallel()
	e := coldstart.NewEnv(env(map[string]string{"A": "1", "B": "x,y", "C": "5s", "D": " 42 "}))
	_, _, _ = e.String("A"), e.List("B"), e.Duration("C", 0)
	if d, unset := e.Int("D", 7), e.Int("E", 7); d != 42 || unset != 7 {
		t.Errorf("Int = %d, %d; want 42 and the default 7", d, unset)
	}
	if err := e.Err(); err != nil {
		t.Errorf("Err() = %v, want nil", err)
	}
	if err := coldstart.NewEnv(env(nil)).Err(); err != nil {
		t.Errorf("Err() of an unused Env = %v, want nil", err)
	}
}

func TestList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		value   *string // nil: unset
		want    []string
		wantErr string
	}{
		{name: "one", value: ptr("alias/signing"), want: []string{"alias/signing"}},
		{name: "several", value: ptr("k1,k2,k3"), want: []string{"k1", "k2", "k3"}},
		{name: "spaces trimmed", value: ptr("  k1 , k2,\tk3  "), want: []string{"k1", "k2", "k3"}},
		{name: "empty elements dropped", value: ptr("k1,,k2,"), want: []string{"k1", "k2"}},
		{name: "leading comma", value: ptr(",k1"), want: []string{"k1"}},
		{name: "duplicates kept", value: ptr("k1,k1"), want: []string{"k1", "k1"}},
		{name: "ARNs with colons", value: ptr("arn:aws:kms:eu-west-1:123456789012:key/abc,alias/x"), want: []string{"arn:aws:kms:eu-west-1:123456789012:key/abc", "alias/x"}},
		{name: "unset", value: nil, wantErr: "configuration: KEYS is not set"},
		{name: "empty", value: ptr(""), wantErr: "configuration: KEYS is not set"},
		{name: "only whitespace", value: ptr("   "), wantErr: "configuration: KEYS is not set"},
		{name: "only commas", value: ptr(","), wantErr: "configuration: KEYS has no elements"},
		{name: "commas and spaces", value: ptr(" , ,, "), wantErr: "configuration: KEYS has no elements"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			vars := map[string]string{}
			if tc.value != nil {
				vars["KEYS"] = *tc.value
			}
			e := coldstart.NewEnv(env(vars))
			if got := e.List("KEYS"); !slices.Equal(got, tc.want) {
				t.Errorf("List = %q, want %q", got, tc.want)
			}
			checkErr(t, e.Err(), tc.wantErr)
		})
	}
}

func ptr(s string) *string { return &s }

func TestDuration(t *testing.T) {
	t.Parallel()
	const def = 15 * time.Minute
	tests := []struct {
		name    string
		value   *string // nil: unset
		want    time.Duration
		wantErr string
	}{
		{name: "unset uses default", value: nil, want: def},
		{name: "empty uses default", value: ptr(""), want: def},
		{name: "whitespace uses default", value: ptr("  "), want: def},
		{name: "seconds", value: ptr("90s"), want: 90 * time.Second},
		{name: "compound", value: ptr("1h30m"), want: 90 * time.Minute},
		{name: "trimmed", value: ptr(" 5m\n"), want: 5 * time.Minute},
		{name: "milliseconds", value: ptr("250ms"), want: 250 * time.Millisecond},
		{name: "no unit", value: ptr("900"), wantErr: `configuration: TTL="900" is not a positive duration`},
		{name: "words", value: ptr("fifteen minutes"), wantErr: `configuration: TTL="fifteen minutes" is not a positive duration`},
		{name: "zero", value: ptr("0s"), wantErr: `configuration: TTL="0s" is not a positive duration`},
		{name: "bare zero", value: ptr("0"), wantErr: `configuration: TTL="0" is not a positive duration`},
		{name: "negative", value: ptr("-5m"), wantErr: `configuration: TTL="-5m" is not a positive duration`},
		{name: "unit in upper case", value: ptr("5M"), wantErr: `configuration: TTL="5M" is not a positive duration`},
		{name: "days unsupported", value: ptr("1d"), wantErr: `configuration: TTL="1d" is not a positive duration`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			vars := map[string]string{}
			if tc.value != nil {
				vars["TTL"] = *tc.value
			}
			e := coldstart.NewEnv(env(vars))
			got := e.Duration("TTL", def)
			checkErr(t, e.Err(), tc.wantErr)
			if tc.wantErr == "" && got != tc.want {
				t.Errorf("Duration = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestNewEnvNilReadsProcessEnvironment(t *testing.T) {
	// Not parallel: t.Setenv.
	t.Setenv("COLDSTART_TEST_TABLE", "from-os")
	t.Setenv("COLDSTART_TEST_EMPTY", "")
	e := coldstart.NewEnv(nil)
	if got := e.String("COLDSTART_TEST_TABLE"); got != "from-os" {
		t.Errorf("String = %q, want from-os", got)
	}
	_ = e.String("COLDSTART_TEST_EMPTY")
	checkErr(t, e.Err(), "configuration: COLDSTART_TEST_EMPTY is not set")
}

func ExampleEnv() {
	e := coldstart.NewEnv(func(name string) string {
		return map[string]string{"ORDERS_TABLE": "orders", "VERIFY_KEY_IDS": "alias/a, alias/b", "ACCESS_TOKEN_TTL": "10x"}[name]
	})
	table := e.String("ORDERS_TABLE")
	keys := e.List("VERIFY_KEY_IDS")
	_ = e.Duration("ACCESS_TOKEN_TTL", 15*time.Minute)
	_ = e.String("TOKEN_ISSUER")
	fmt.Println(table, keys)
	fmt.Println(e.Err())
	// Output:
	// orders [alias/a alias/b]
	// configuration: ACCESS_TOKEN_TTL="10x" is not a positive duration; TOKEN_ISSUER is not set
}
