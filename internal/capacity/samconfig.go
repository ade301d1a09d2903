package capacity

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"strings"
)

// Environment is one environment of samconfig.toml as SAM CLI's deploy
// sees it: the tables [default.global], [default.deploy], [<env>.global]
// and [<env>.deploy] merged in that order (scripts/samconfig.py merges
// them the same way).
type Environment struct {
	Name      string
	Region    string            // "" when samconfig.toml sets none
	Overrides map[string]string // parameter_overrides
	// OverridesText is parameter_overrides as written.
	OverridesText string
}

// ReadEnvironment reads environment env of the samconfig.toml at path.
func ReadEnvironment(path, env string) (Environment, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Environment{}, fmt.Errorf("read samconfig: %w", err)
	}
	e, err := ParseEnvironment(data, env)
	if err != nil {
		return Environment{}, fmt.Errorf("%s: %w", path, err)
	}
	return e, nil
}

// ParseEnvironment reads environment env of a samconfig.toml. It reads the
// few TOML forms samconfig.toml uses (tables, key = "string", key = true,
// key = ["strings"] on one line) and no more.
func ParseEnvironment(data []byte, env string) (Environment, error) {
	tables := map[string]map[string]string{"": {}} // "": keys before the first table
	table := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		case strings.HasPrefix(line, "["):
			if !strings.HasSuffix(line, "]") {
				return Environment{}, fmt.Errorf("line %d: unterminated table header", n)
			}
			table = strings.TrimSpace(strings.Trim(line, "[]"))
			if tables[table] == nil {
				tables[table] = map[string]string{}
			}
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			return Environment{}, fmt.Errorf("line %d: not key = value", n)
		}
		v, err := tomlValue(strings.TrimSpace(value))
		if err != nil {
			return Environment{}, fmt.Errorf("line %d: %w", n, err)
		}
		tables[table][strings.TrimSpace(key)] = v
	}
	if err := sc.Err(); err != nil {
		return Environment{}, err
	}
	if tables[env+".global.parameters"] == nil && tables[env+".deploy.parameters"] == nil {
		return Environment{}, fmt.Errorf("no environment %q", env)
	}
	merged := map[string]string{}
	for _, name := range []string{"default.global.parameters", "default.deploy.parameters", env + ".global.parameters", env + ".deploy.parameters"} {
		maps.Copy(merged, tables[name])
	}
	overrides, err := splitOverrides(merged["parameter_overrides"])
	if err != nil {
		return Environment{}, fmt.Errorf("%s parameter_overrides: %w", env, err)
	}
	return Environment{Name: env, Region: merged["region"], Overrides: overrides, OverridesText: merged["parameter_overrides"]}, nil
}

// tomlValue reads a basic string, a literal string, a boolean or number
// (as written), or a one-line array of strings (joined with spaces, as
// SAM CLI joins parameter_overrides given as a list).
func tomlValue(v string) (string, error) {
	if i := strings.Index(v, " #"); i >= 0 && !strings.ContainsAny(v[:i], `"'`) {
		v = strings.TrimSpace(v[:i])
	}
	switch {
	case strings.HasPrefix(v, `"`) || strings.HasPrefix(v, "'"):
		end := strings.LastIndex(v, v[:1])
		if end == 0 {
			return "", errors.New("unterminated string")
		}
		if v[0] == '\'' { // a literal string: no escapes
			return v[1:end], nil
		}
		return strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(v[1:end]), nil
	case strings.HasPrefix(v, "["):
		if !strings.HasSuffix(v, "]") {
			return "", errors.New("arrays must be on one line here")
		}
		var parts []string
		for _, item := range strings.Split(strings.Trim(v, "[]"), ",") {
			item = strings.TrimSpace(item)
			if item == "" {
				continue
			}
			s, err := tomlValue(item)
			if err != nil {
				return "", err
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, " "), nil
	}
	return v, nil
}

// splitOverrides splits "A=1 B='two words'" as a shell would (and as
// scripts/samconfig.py does with shlex) into parameters.
func splitOverrides(s string) (map[string]string, error) {
	out := map[string]string{}
	var words []string
	var cur strings.Builder
	inWord := false
	quote := rune(0)
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, errors.New("unterminated quote")
	}
	if inWord {
		words = append(words, cur.String())
	}
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%q is not NAME=value", w)
		}
		out[k] = v
	}
	return out, nil
}
