package contract_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// situatedWords are phrases that make sense only to whoever wrote them,
// where and when they did: the machine they worked on and the tracker
// they worked from. README.md and docs/ are read in a clone, on another
// machine, without the tracker. Case is ignored.
var situatedWords = []struct {
	pattern *regexp.Regexp
	why     string
}{
	// "not run here", "measured here", and "here" for the text itself,
	// which "below", "this page" or a link say better.
	{regexp.MustCompile(`(?i)\bhere\b`), "name the place: locally, on AWS, in the report, below"},
	// "this machine", "this 2-core machine's", "these machines".
	{regexp.MustCompile(`(?i)\b(this|these|our)\s+(\S+\s+)?machines?\b`), `the author's machine: say what was measured on, or "locally"`},
	{regexp.MustCompile(`(?i)\btracker\b`), "the tracker: say what the text means without it"},
	// "issue 21", "Issue 13's", "issues #4".
	{regexp.MustCompile(`(?i)\bissues?\s+#?\d+`), "an issue number: say what it asked or measured"},
	// "the issue measured", "this issue".
	{regexp.MustCompile(`(?i)\b(the|this|that)\s+issue\b`), "a tracker issue: say what it asked or measured"},
	// "#14" alone; an upstream reference names its repository
	// (golang/go#79018), which the pattern lets through.
	{regexp.MustCompile(`(?m)(^|[^\w/.#-])#\d+\b`), "an issue or pull request number without its repository"},
}

// What a line of Markdown quotes rather than says: inline code, link
// targets, URLs and anchors, which the rule does not read.
var (
	inlineCode = regexp.MustCompile("`[^`]*`")
	linkTarget = regexp.MustCompile(`\]\([^)]*\)`)
	bareURL    = regexp.MustCompile(`https?://\S+`)
	anchorTag  = regexp.MustCompile(`<a id="[^"]*"></a>`)
	// blockStart begins a list item or a table row.
	blockStart = regexp.MustCompile(`^\s*([-*|]|\d+\.)\s`)
)

// notNewline is every character but a newline.
var notNewline = regexp.MustCompile(`[^\n]`)

// blank replaces every character of s but newlines with a space.
func blank(s string) string { return notNewline.ReplaceAllString(s, " ") }

// TestDocsSpeakToAnyReader: README.md and the Markdown files under docs/
// contain none of situatedWords outside code (fenced blocks and inline
// code spans), link targets and URLs.
func TestDocsSpeakToAnyReader(t *testing.T) {
	t.Parallel()
	files := []string{filepath.Join(root, "README.md")}
	err := filepath.WalkDir(filepath.Join(root, "docs"), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".md") {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, path := range files {
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		lines := strings.Split(readFile(t, path), "\n")
		fenced := false
		for i := 0; i < len(lines); {
			// One block (a paragraph, a list item or a table row), so that
			// a phrase wrapped across its lines is still found.
			j := i + 1
			for j < len(lines) && strings.TrimSpace(lines[j]) != "" && !blockStart.MatchString(lines[j]) {
				j++
			}
			// The block's prose: fenced code left out, and what quotes
			// blanked (newlines kept, so an offset still gives its line);
			// phrases and code spans may wrap across lines.
			prose := make([]string, j-i)
			for n := i; n < j; n++ {
				line := lines[n]
				if strings.HasPrefix(strings.TrimSpace(line), "```") {
					fenced = !fenced
					continue
				}
				if fenced {
					continue
				}
				prose[n-i] = line
				checked++
			}
			text := strings.Join(prose, "\n")
			for _, re := range []*regexp.Regexp{inlineCode, linkTarget, bareURL, anchorTag} {
				text = re.ReplaceAllStringFunc(text, blank)
			}
			for _, w := range situatedWords {
				for _, at := range w.pattern.FindAllStringIndex(text, -1) {
					start := at[0] + len(text[at[0]:at[1]]) - len(strings.TrimLeft(text[at[0]:at[1]], " \n([{"))
					m := text[start:at[1]]
					line := i + 1 + strings.Count(text[:start], "\n")
					t.Errorf("%s:%d: %q: %s", rel, line, m, w.why)
				}
			}
			for i = j; i < len(lines) && strings.TrimSpace(lines[i]) == ""; i++ {
			}
		}
	}
	if checked == 0 {
		t.Fatal("no line of documentation checked")
	}
}
