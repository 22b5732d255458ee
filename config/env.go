package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"

	"github.com/kelseyhightower/envconfig"
)

// parseEach runs envconfig on one field at a time, because envconfig.Process stops at the
// first bad variable and users should learn about all of them at once. Missing required
// values are left to Validate, which also explains what to put there.
func parseEach(ptr any) []string {
	var problems []string
	v := reflect.ValueOf(ptr).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue // derived state, not a variable
		}
		if f.Type.Kind() == reflect.Struct && f.Tag.Get("envconfig") == "" {
			problems = append(problems, parseEach(v.Field(i).Addr().Interface())...)
			continue
		}
		name := Prefix + "_" + f.Tag.Get("envconfig")
		if f.Tag.Get("required") == "true" && os.Getenv(name) == "" {
			continue
		}
		one := reflect.New(reflect.StructOf([]reflect.StructField{{Name: f.Name, Type: f.Type, Tag: f.Tag}}))
		if err := envconfig.Process(Prefix, one.Interface()); err != nil {
			var pe *envconfig.ParseError
			if errors.As(err, &pe) {
				problems = append(problems, fmt.Sprintf("%s: cannot read %q as %s", name, pe.Value, pe.TypeName))
			} else {
				problems = append(problems, fmt.Sprintf("%s: %v", name, err))
			}
			continue
		}
		v.Field(i).Set(one.Elem().Field(0))
	}
	return problems
}

// Usage describes every variable: name, default and meaning, for --help and the README.
func Usage() []VarDoc { return usage(reflect.TypeOf(Config{})) }

func usage(t reflect.Type) []VarDoc {
	var out []VarDoc
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue // derived state, not a variable
		}
		if f.Type.Kind() == reflect.Struct && f.Tag.Get("envconfig") == "" {
			out = append(out, usage(f.Type)...)
			continue
		}
		out = append(out, VarDoc{
			Name:     Prefix + "_" + f.Tag.Get("envconfig"),
			Default:  f.Tag.Get("default"),
			Required: f.Tag.Get("required") == "true",
			Desc:     f.Tag.Get("desc"),
		})
	}
	return out
}

// VarDoc documents one environment variable.
type VarDoc struct {
	Name, Default, Desc string
	Required            bool
}

// defaultsPrefix names no variable anyone sets, so envconfig applies only the defaults.
const defaultsPrefix = "S1C_DEFAULTS_ONLY_7f3c"

// Defaults is the configuration with every default applied and nothing read from the
// environment: what code that builds a Config itself (tests, the benchmark) starts
// from, so a setting added later cannot arrive there as an unvalidated zero. Required
// settings are left empty.
func Defaults() Config {
	var c Config
	applyDefaults(reflect.ValueOf(&c).Elem())
	c.Temporal.derive()
	return c
}

func applyDefaults(v reflect.Value) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue // derived state, not a variable
		}
		if f.Type.Kind() == reflect.Struct && f.Tag.Get("envconfig") == "" {
			applyDefaults(v.Field(i))
			continue
		}
		if f.Tag.Get("default") == "" {
			continue
		}
		one := reflect.New(reflect.StructOf([]reflect.StructField{{Name: f.Name, Type: f.Type, Tag: f.Tag}}))
		if err := envconfig.Process(defaultsPrefix, one.Interface()); err != nil {
			panic(fmt.Sprintf("config: default of %s does not parse: %v", f.Name, err)) // a bad tag is a programming error; the tests catch it
		}
		v.Field(i).Set(one.Elem().Field(0))
	}
}
