// Package guard holds the defences around the model: on the way in, what it is
// shown (cleaned of fence look-alikes, pseudonymised, scanned for prompt
// injection); on the way out, what it answers (grounded in the data it was
// shown, held to the rules engine when that data carried suspected injection).
// They live apart from the model client because they must hold whatever the
// model does, and each can be read and tested on its own. The package calls no
// model and does not import llm: llm passes in the data it showed.
package guard
