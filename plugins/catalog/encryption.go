package catalog

import (
	_ "github.com/strait-gateway/strait/plugins/decrypt" // DecryptPlugin
	_ "github.com/strait-gateway/strait/plugins/encrypt" // EncryptPlugin
)
