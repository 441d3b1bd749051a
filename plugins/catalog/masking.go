package catalog

// Data security: masking of record values on consume.
import (
	_ "github.com/strait-gateway/strait/plugins/fieldleveldatamasking" // FieldLevelDataMasking
)
