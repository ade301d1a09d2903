package api_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/users/api"
	"github.com/serverless-shop/backend/functions/users/app"
	"github.com/serverless-shop/backend/functions/users/app/apptest"
	"github.com/serverless-shop/backend/functions/users/password"
	"github.com/serverless-shop/backend/internal/apitest"
)

// BenchmarkLogin measures login at production hashing cost (the service of
// an apptest.Env, with password.Default). The unknown
// email and wrong password cases should take about the same time: that is
// what keeps login from revealing which emails are registered. The service's
// clock moves a day each time it is read, so the login throttles forget every
// attempt before the next, however many iterations the benchmark runs.
func BenchmarkLogin(b *testing.B) {
	e := apptest.NewEnv(b)
	var days atomic.Int64
	start := time.Now()
	cfg := e.Svc.Config
	cfg.Hashing, cfg.Now = password.Default, func() time.Time { return start.Add(time.Duration(days.Add(1)) * 24 * time.Hour) }
	c := apitest.Client{Handler: api.NewHandler(e.Log, api.Config{Service: app.New(cfg), Verifier: e.Verifier})}
	reg := `{"email":"` + apptest.AdaEmail + `","password":"` + apptest.AdaPassword + `","name":"Ada"}`
	if resp := c.Do(b, apitest.NewRequest("POST", "/v1/auth/register", reg)); resp.StatusCode != 201 {
		b.Fatalf("register: %d %s", resp.StatusCode, resp.Body)
	}
	for _, bc := range []struct {
		name, email, password string
		status                int
	}{
		{"unknown email", "nobody@example.com", apptest.AdaPassword, 401},
		{"wrong password", apptest.AdaEmail, "not the password at all", 401},
		{"success", apptest.AdaEmail, apptest.AdaPassword, 200},
	} {
		body := `{"email":"` + bc.email + `","password":"` + bc.password + `"}`
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if resp := c.Do(b, apitest.NewRequest("POST", "/v1/auth/login", body)); resp.StatusCode != bc.status {
					b.Fatalf("login: %d %s", resp.StatusCode, resp.Body)
				}
			}
		})
	}
}
