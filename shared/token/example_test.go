package token_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/shared/token"
)

// Example_issueAndVerify issues an access token with an in-memory key and
// verifies it the way the authorizer does, on a fixed clock.
func Example_issueAndVerify() {
	signer, err := apitest.NewSigner(apitest.NewKey())
	if err != nil {
		panic(err)
	}
	now := time.Date(2025, time.March, 14, 15, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }

	issuer := token.NewIssuer(signer, "https://users.shop.example", "https://api.shop.example", token.DefaultTTL, clock)
	raw, exp, err := issuer.Issue(context.Background(), token.Subject{UserID: "user-42", Email: "ada@example.com", Name: "Ada", SessionID: "s1"})
	if err != nil {
		panic(err)
	}

	verifier := token.NewVerifier([]token.PublicKey{signer.PublicKey()}, "https://users.shop.example", "https://api.shop.example", clock)
	claims, err := verifier.Verify(raw)
	if err != nil {
		panic(err)
	}
	fmt.Println("subject:", claims.Subject)
	fmt.Println("email:", claims.Email)
	fmt.Println("expires:", exp.Format(time.RFC3339))

	// An hour later the same token is refused.
	now = now.Add(time.Hour)
	_, err = verifier.Verify(raw)
	fmt.Println("expired:", errors.Is(err, token.ErrExpired))
	// Output:
	// subject: user-42
	// email: ada@example.com
	// expires: 2025-03-14T15:15:00Z
	// expired: true
}
