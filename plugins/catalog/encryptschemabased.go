package catalog

import (
	_ "github.com/strait-gateway/strait/plugins/encryptschemabased" // EncryptSchemaBasedPlugin
)
