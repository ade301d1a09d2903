package contract_test

import (
	"io"
	"log/slog"
	"testing"

	ordersapi "github.com/serverless-shop/backend/functions/orders/api"
	usersapi "github.com/serverless-shop/backend/functions/users/api"
	"github.com/serverless-shop/backend/shared/web"
)

// serviceRouters builds the API of every service the API routes to, keyed
// by the logical id of its function in template.yaml, with test keys and
// no AWS client. A new service adds its line here (docs/extending.md).
func serviceRouters(t *testing.T, verifier web.TokenVerifier) map[string]*web.Server {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return map[string]*web.Server{
		"UsersFunction":  usersapi.NewHandler(log, usersapi.Config{Verifier: verifier}),
		"OrdersFunction": ordersapi.NewHandler(log, ordersapi.Config{Verifier: verifier}),
	}
}
