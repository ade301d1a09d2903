package resource_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/serverless-shop/backend/functions/publickeys/resource"
	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/shared/kmskeys"
	"github.com/serverless-shop/backend/shared/token"
)

// fakeKMS answers GetPublicKey for the keys it holds.
type fakeKMS struct {
	keys map[string]*ecdsa.PrivateKey
}

var _ kmskeys.Client = (*fakeKMS)(nil)

func (f *fakeKMS) GetPublicKey(_ context.Context, in *kms.GetPublicKeyInput, _ ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error) {
	k, ok := f.keys[aws.ToString(in.KeyId)]
	if !ok {
		return nil, errors.New("NotFoundException: no such key")
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		return nil, err
	}
	return &kms.GetPublicKeyOutput{PublicKey: der, KeySpec: kmstypes.KeySpecEccNistP256, KeyUsage: kmstypes.KeyUsageTypeSignVerify}, nil
}

func (f *fakeKMS) Sign(context.Context, *kms.SignInput, ...func(*kms.Options)) (*kms.SignOutput, error) {
	return nil, errors.New("not used")
}

func TestPublishesTheKeys(t *testing.T) {
	t.Parallel()
	a, b := apitest.NewKey(), apitest.NewKey()
	keys := []token.PublicKey{token.NewPublicKey(&a.PublicKey), token.NewPublicKey(&b.PublicKey)}
	jwks, err := token.JWKS(keys)
	if err != nil {
		t.Fatal(err)
	}
	h := resource.Handler(&fakeKMS{keys: map[string]*ecdsa.PrivateKey{"key-a": a, "key-b": b}}, slog.New(slog.DiscardHandler))
	for _, rt := range []cfn.RequestType{cfn.RequestCreate, cfn.RequestUpdate} {
		id, data, err := h(context.Background(), cfn.Event{RequestType: rt, ResourceProperties: map[string]any{
			"ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:publickeys",
			"Keys":         map[string]any{"B": "key-b", "A": "key-a"},
		}})
		if err != nil || id == "" {
			t.Fatalf("%s: id %q, error %v", rt, id, err)
		}
		if want := (map[string]any{"Jwks": string(jwks), "KidA": keys[0].ID, "KidB": keys[1].ID}); !reflect.DeepEqual(data, want) {
			t.Errorf("%s: data = %v, want A then B: %v", rt, data, want)
		}
	}
}

func TestDeleteHasNothingToUndo(t *testing.T) {
	t.Parallel()
	h := resource.Handler(&fakeKMS{}, slog.New(slog.DiscardHandler))
	// Even with properties that would fail a create: a stack must be able
	// to delete a resource whose create failed.
	id, data, err := h(context.Background(), cfn.Event{RequestType: cfn.RequestDelete, PhysicalResourceID: "token-public-keys"})
	if err != nil || id != "token-public-keys" || data != nil {
		t.Fatalf("delete = %q, %v, %v", id, data, err)
	}
}

func TestRefusesBadPropertiesAndKeys(t *testing.T) {
	t.Parallel()
	h := resource.Handler(&fakeKMS{keys: map[string]*ecdsa.PrivateKey{"key-a": apitest.NewKey()}}, slog.New(slog.DiscardHandler))
	tests := []struct {
		name  string
		props map[string]any
		want  string
	}{
		{name: "no keys", props: map[string]any{}, want: "property Keys"},
		{name: "keys not a map", props: map[string]any{"Keys": []any{"key-a"}}, want: "property Keys"},
		{name: "empty map", props: map[string]any{"Keys": map[string]any{}}, want: "property Keys"},
		{name: "name with a dot", props: map[string]any{"Keys": map[string]any{"A.B": "key-a"}}, want: "alphanumeric"},
		{name: "empty id", props: map[string]any{"Keys": map[string]any{"A": ""}}, want: "alphanumeric"},
		{name: "id not a string", props: map[string]any{"Keys": map[string]any{"A": 7}}, want: "alphanumeric"},
		{name: "unknown key", props: map[string]any{"Keys": map[string]any{"A": "key-a", "B": "no-such-key"}}, want: "no-such-key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, data, err := h(context.Background(), cfn.Event{RequestType: cfn.RequestCreate, ResourceProperties: tc.props})
			if err == nil || !strings.Contains(err.Error(), tc.want) || data != nil {
				t.Fatalf("error %v, data %v; want an error naming %q", err, data, tc.want)
			}
		})
	}
}
