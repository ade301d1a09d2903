package contract_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// samLocalPort is a port other than the default 4566, so that a value
// that does not follow EMULATOR_PORT shows.
const samLocalPort = "4577"

// TestSamLocalFollowsTheLocalCloud checks what `make sam-local` runs, which
// needs Docker and so is not run on machines without it: the commands
// localstack/sam-local.sh prints with --print for a local cloud on
// samLocalPort. The functions in sam local's containers must reach that
// cloud (host.docker.internal on EMULATOR_PORT, in the template's
// LocalEndpoint and in the --env-vars file, which overrides the deployed
// environment), get the local environment's parameters (the same as the
// local deploy's but for the endpoint), each one the template allows, and
// every parameter the template leaves without a default.
func TestSamLocalFollowsTheLocalCloud(t *testing.T) {
	t.Parallel()
	want := "http://host.docker.internal:" + samLocalPort
	cmd := exec.Command("bash", filepath.Join(root, "localstack", "sam-local.sh"), "--print")
	cmd.Env = append(os.Environ(), "EMULATOR_PORT="+samLocalPort, "LOCAL_CLOUD=ministack")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sam-local.sh --print: %v", err)
	}
	cmds := strings.Split(strings.TrimRight(string(out), "\n"), "\n\n")
	if len(cmds) != 2 {
		t.Fatalf("sam-local.sh --print: want two commands, got %q", out)
	}
	envCmd, samCmd := strings.Split(cmds[0], "\n"), strings.Split(cmds[1], "\n")

	if i := slices.Index(envCmd, "sam-local-env"); i < 0 || i+2 >= len(envCmd) || envCmd[i+2] != want {
		t.Errorf("the --env-vars file is not pointed at %s: %q", want, envCmd)
	}
	if !slices.Equal(samCmd[1:3], []string{"local", "start-api"}) {
		t.Fatalf("not sam local start-api: %q", samCmd)
	}
	flags := map[string]string{}
	for i := 3; i+1 < len(samCmd); i++ {
		if strings.HasPrefix(samCmd[i], "--") && !strings.HasPrefix(samCmd[i+1], "--") {
			flags[samCmd[i]] = samCmd[i+1]
		}
	}
	if got := flags["--config-env"]; got != "local" {
		t.Errorf("--config-env %q, want local", got)
	}
	if got, wantFile := flags["--env-vars"], filepath.Join(".local", "state", samLocalPort, "sam-local-env.json"); !strings.HasSuffix(got, wantFile) {
		t.Errorf("--env-vars %q, want the port's state: .../%s", got, wantFile)
	}

	overrides := pairs(flags["--parameter-overrides"])
	if got := overrides["LocalEndpoint"]; got != want {
		t.Errorf("LocalEndpoint=%q, want %s", got, want)
	}
	if got := overrides["Environment"]; got != "local" {
		t.Errorf("Environment=%q, want local", got)
	}
	deploy := exec.Command("bash", "-c", `source localstack/env.sh && source localstack/params.sh && local_params ENDPOINT`)
	deploy.Dir = root
	deploy.Env = cmd.Env
	b, err := deploy.Output()
	if err != nil {
		t.Fatalf("local_params of localstack/params.sh: %v", err)
	}
	deployed := pairs(strings.TrimSpace(string(b)))
	deployed["LocalEndpoint"] = want
	for _, k := range keys(deployed) {
		if overrides[k] != deployed[k] {
			t.Errorf("sam local gets %s=%q, the local deploy %q", k, overrides[k], deployed[k])
		}
	}

	params := mapping(template(t), "Parameters")
	for name, spec := range entries(params) {
		v, given := overrides[name]
		if !given {
			if mapping(spec, "Default") == nil {
				t.Errorf("parameter %s has no default and sam local is not given one", name)
			}
			continue
		}
		if allowed := mapping(spec, "AllowedValues"); allowed != nil && !slices.ContainsFunc(allowed.Content, func(n *yaml.Node) bool { return n.Value == v }) {
			t.Errorf("%s=%q is not one of the template's AllowedValues", name, v)
		}
		delete(overrides, name)
	}
	for _, k := range keys(overrides) {
		t.Errorf("sam local is given %s, which the template does not have", k)
	}
}

// pairs reads Name=Value pairs separated by spaces, as
// --parameter-overrides takes them.
func pairs(s string) map[string]string {
	out := map[string]string{}
	for _, kv := range strings.Fields(s) {
		k, v, _ := strings.Cut(kv, "=")
		out[k] = v
	}
	return out
}
