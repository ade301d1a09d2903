package capacity

// Share is one route's part of a traffic mix.
type Share struct {
	Category string
	Route    string // route key of the template's Api event
	// Request names the budget (internal/budgets) whose figures stand for
	// a request of the route in this mix.
	Request string
	Percent float64 // of all requests
}

// Mix is a traffic mix: what share of the requests each route gets.
type Mix struct {
	Name   string
	Shares []Share
	// Splits says, per category, how its share is divided among its
	// routes: the model's assumptions, not the documented mix's.
	Splits map[string]string
}

// DocumentedMix is launch day's mix (tracker issue 21): catalog reads
// 65 %; authenticated reads (GET /v1/users/me, the orders list and detail)
// 29 %; refresh 2 %; create order 2 %; login 1.5 %; register, verify and
// password reset 0.5 %. How each category is split among its routes is
// assumed, and said in Splits.
func DocumentedMix() Mix {
	const (
		catalog  = "catalog reads"
		authRead = "authenticated reads"
		refresh  = "refresh"
		create   = "create order"
		login    = "login"
		account  = "register, verify, password reset"
	)
	return Mix{
		Name: "the launch-day mix (internal/capacity/mix.go)",
		Shares: []Share{
			{catalog, "GET /v1/products", "GET /v1/products (warm)", 40},
			{catalog, "GET /v1/products/{sku}", "GET /v1/products/{sku} (warm)", 25},
			{authRead, "GET /v1/users/me", "GET /v1/users/me", 9},
			{authRead, "GET /v1/orders", "GET /v1/orders", 10},
			{authRead, "GET /v1/orders/{id}", "GET /v1/orders/{id}", 10},
			{refresh, "POST /v1/auth/refresh", "POST /v1/auth/refresh", 2},
			{create, "POST /v1/orders", "POST /v1/orders with Idempotency-Key (warm)", 2},
			{login, "POST /v1/auth/login", "POST /v1/auth/login", 1.5},
			{account, "POST /v1/auth/register", "POST /v1/auth/register", 0.2},
			{account, "POST /v1/auth/verify-email", "POST /v1/auth/verify-email", 0.2},
			{account, "POST /v1/auth/password-reset", "POST /v1/auth/password-reset", 0.05},
			{account, "POST /v1/auth/password-reset/confirm", "POST /v1/auth/password-reset/confirm", 0.05},
		},
		Splits: map[string]string{
			catalog:  "40 % the list, 25 % a product; each answered from the function's copy of the catalog (its reloads are the CATALOG hot key's load)",
			authRead: "9 % the profile, 10 % the orders list, 10 % an order",
			create:   "every order with an Idempotency-Key (the costlier case: 4 + 2 WCU), its function's catalog copy fresh",
			login:    "every login succeeds (the costlier case: a KMS Sign and the session's writes, as internal/budgets has them)",
			account:  "0.2 % register, 0.2 % verify-email, 0.05 % password-reset, 0.05 % its confirmation",
		},
	}
}
