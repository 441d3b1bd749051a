// Package catalog links every interceptor plugin into the binary. Each
// plugin registers itself with the interceptor package when its package
// is imported; importing catalog imports them all.
package catalog

import (
	_ "github.com/strait-gateway/strait/plugins/createtopicpolicy" // CreateTopicPolicy
)
