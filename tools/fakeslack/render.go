package fakeslack

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Render writes Block Kit blocks (a message's, or a view with its "blocks") as plain
// text, for the demo's terminal and for tests' assertions: one line per block, buttons
// as [Label], checkboxes as [ ] option, text inputs as a labelled field. Unknown blocks
// show their type.
func Render(blocks json.RawMessage) string {
	var list []block
	if err := json.Unmarshal(blocks, &list); err != nil {
		var view struct {
			Title  *text   `json:"title"`
			Blocks []block `json:"blocks"`
		}
		if err := json.Unmarshal(blocks, &view); err != nil {
			return fmt.Sprintf("(unreadable blocks: %v)", err)
		}
		list = view.Blocks
		if view.Title != nil {
			list = append([]block{{Type: "header", Text: view.Title}}, list...)
		}
	}
	var lines []string
	for _, b := range list {
		if l := b.render(); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

type text struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// UnmarshalJSON reads a text object, or a bare string (a context's mrkdwn element
// carries its text as one).
func (t *text) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		t.Text = readable(s)
		return nil
	}
	type plain text
	if err := json.Unmarshal(b, (*plain)(t)); err != nil {
		return err
	}
	t.Text = readable(t.Text)
	return nil
}

type element struct {
	Type        string    `json:"type"`
	Text        *text     `json:"text,omitempty"`
	URL         string    `json:"url,omitempty"`
	Placeholder *text     `json:"placeholder,omitempty"`
	Options     []option  `json:"options,omitempty"`
	Elements    []element `json:"elements,omitempty"`
}

type option struct {
	Text        text   `json:"text"`
	Value       string `json:"value"`
	Description *text  `json:"description,omitempty"`
}

type block struct {
	Type      string    `json:"type"`
	Text      *text     `json:"text,omitempty"`
	Fields    []text    `json:"fields,omitempty"`
	Elements  []element `json:"elements,omitempty"`
	Accessory *element  `json:"accessory,omitempty"`
	Label     *text     `json:"label,omitempty"`
	Element   *element  `json:"element,omitempty"`
	Optional  bool      `json:"optional,omitempty"`
}

func (b block) render() string {
	switch b.Type {
	case "header":
		if b.Text != nil {
			return "== " + b.Text.Text + " =="
		}
	case "divider":
		return "---"
	case "section":
		var parts []string
		if b.Text != nil {
			parts = append(parts, b.Text.Text)
		}
		// Fields are a label and a value; a reader sees them side by side.
		var fields []string
		for _, f := range b.Fields {
			fields = append(fields, strings.ReplaceAll(f.Text, "\n", ": "))
		}
		if len(fields) > 0 {
			parts = append(parts, "  "+strings.Join(fields, " · "))
		}
		if b.Accessory != nil {
			parts = append(parts, "  "+b.Accessory.render())
		}
		return strings.Join(parts, "\n")
	case "context":
		var parts []string
		for _, e := range b.Elements {
			parts = append(parts, e.render())
		}
		return "(" + strings.Join(parts, " · ") + ")"
	case "actions":
		var parts []string
		for _, e := range b.Elements {
			parts = append(parts, e.render())
		}
		return strings.Join(parts, " ")
	case "input":
		label := ""
		if b.Label != nil {
			label = b.Label.Text
		}
		if b.Optional {
			label += " (optional)"
		}
		if b.Element == nil {
			return label + ":"
		}
		return label + ": " + b.Element.render()
	}
	return "(" + b.Type + ")"
}

func (e element) render() string {
	label := ""
	if e.Text != nil {
		label = e.Text.Text
	}
	switch e.Type {
	case "button":
		if e.URL != "" {
			return fmt.Sprintf("[%s → %s]", label, e.URL)
		}
		return "[" + label + "]"
	case "checkboxes", "radio_buttons":
		box := "[ ]"
		if e.Type == "radio_buttons" {
			box = "( )"
		}
		var opts []string
		for _, o := range e.Options {
			s := box + " " + o.Text.Text
			if o.Description != nil {
				s += " — " + o.Description.Text
			}
			opts = append(opts, s)
		}
		return "\n  " + strings.Join(opts, "\n  ")
	case "plain_text_input":
		if e.Placeholder != nil {
			return "______ (" + e.Placeholder.Text + ")"
		}
		return "______"
	}
	if label != "" {
		return label
	}
	return "<" + e.Type + ">" // an image, a date picker…
}
