package policy

import _ "embed"

// ExampleYAML is the documented example policy, examples/policy.yaml: a starting point
// for a CISO's own file, with comments that explain every setting.
//
//go:embed examples/policy.yaml
var ExampleYAML []byte

// ExamplePolicy parses ExampleYAML. It panics if the example is invalid, which the tests rule out.
func ExamplePolicy() *Policy {
	p, err := Parse(ExampleYAML, "examples/policy.yaml")
	if err != nil {
		panic(err)
	}
	return p
}
