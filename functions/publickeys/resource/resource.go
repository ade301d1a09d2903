// Package resource is the CloudFormation custom resource that publishes the
// public halves of the token signing keys at deploy time, so that every
// function verifying tokens gets them through its configuration and none
// has to ask KMS at cold start.
package resource

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"slices"

	"github.com/aws/aws-lambda-go/cfn"

	"github.com/serverless-shop/backend/shared/kmskeys"
	"github.com/serverless-shop/backend/shared/token"
)

// physicalID names the resource; it never changes, so an update of the
// keys updates the resource in place.
const physicalID = "token-public-keys"

// keyName is what a key may be called in the resource's Keys property: it
// becomes part of an attribute name.
var keyName = regexp.MustCompile(`^[A-Za-z0-9]{1,16}$`)

// Handler answers the custom resource. Its properties name the signing
// keys, Keys: {A: <KMS key id>, B: <KMS key id>}; its attributes are Jwks,
// the JSON Web Key Set of all of them in name order, and Kid<name>, the
// token key id of each. Delete has nothing to undo.
func Handler(c kmskeys.Client, log *slog.Logger) cfn.CustomResourceFunction {
	return func(ctx context.Context, ev cfn.Event) (string, map[string]any, error) {
		if ev.RequestType == cfn.RequestDelete {
			return physicalID, nil, nil
		}
		names, ids, err := keyIDs(ev.ResourceProperties)
		if err != nil {
			return physicalID, nil, err
		}
		keys, err := kmskeys.PublicKeys(ctx, c, ids)
		if err != nil {
			return physicalID, nil, err
		}
		jwks, _ := token.JWKS(keys) // strings only: it cannot fail
		data := map[string]any{"Jwks": string(jwks)}
		for i, n := range names {
			data["Kid"+n] = keys[i].ID
		}
		log.InfoContext(ctx, "public keys published", slog.Int("keys", len(keys)), slog.String("requestType", string(ev.RequestType)))
		return physicalID, data, nil
	}
}

// keyIDs reads the Keys property: the key names, sorted, and the KMS key id
// of each.
func keyIDs(props map[string]any) (names, ids []string, err error) {
	raw, ok := props["Keys"].(map[string]any)
	if !ok || len(raw) == 0 {
		return nil, nil, fmt.Errorf("property Keys must map key names to KMS key ids")
	}
	names = slices.Sorted(maps.Keys(raw))
	for _, name := range names {
		id, ok := raw[name].(string)
		if !keyName.MatchString(name) || !ok || id == "" {
			return nil, nil, fmt.Errorf("property Keys: %q must be a short alphanumeric name with a KMS key id", name)
		}
		ids = append(ids, id)
	}
	return names, ids, nil
}
