// Package expr is the expression language of kits: the XLSForm subset that a
// kit's relevant, constraint, calculate, default and required rules are
// written in, such as
//
//	. >= 0 and . <= ${household_size}
//	selected(${needs}, 'medical') and not(${injured} = 0)
//	if(today() - ${dob} < 18 * 365, 'child', 'adult')
//
// Parse reads an expression once, when a kit is loaded; Eval runs it against
// a record as often as a form changes. docs/kits.md ("Expressions") is the
// language as kit authors read it.
//
// Every node must reach the same answer from the same record, or two laptops
// would disagree on whether a form is complete. So evaluation depends on
// nothing but the expression and its Env: no clock (the caller passes
// today's date), no locale, no map order, and only floating-point operations
// that IEEE 754 defines exactly (+, -, *, /, remainder, truncation, and
// decimal conversion), each rounded on its own so that no processor fuses
// two of them. A number is never NaN nor infinite: what would be is the
// empty value.
//
// The rules follow JavaRosa, which ODK Collect and Enketo implement, where
// it defines them; docs/kits.md lists where this package differs and why.
//
// A parsed Expr is immutable: Eval may run concurrently on one Expr. Eval
// calls Env.Fields from the calling goroutine only, and keeps nothing.
//
// Parse is bounded for kits that come over the network: an expression is at
// most MaxLen bytes, nests at most MaxDepth deep, and a regex pattern is at
// most MaxPattern bytes and MaxProgram instructions compiled, compiled once
// by Parse into Go's RE2, which matches in time linear in its input times
// the instructions.
package expr
