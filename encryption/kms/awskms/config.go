package awskms

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
)

// Config is the aws entry of an encryption interceptor's kmsConfig. With
// neither basicCredentials nor sessionCredentials set, the default AWS
// credential chain is used (environment, shared config files, web
// identity, container and instance roles).
type Config struct {
	BasicCredentials   *BasicCredentials   `json:"basicCredentials" doc:"a long-term access key of an IAM user"`
	SessionCredentials *SessionCredentials `json:"sessionCredentials" doc:"temporary credentials: an access key with its session token"`
	Endpoint           string              `json:"endpoint" doc:"URL of the KMS API, http or https, replacing the regional AWS endpoint (VPC endpoints, tests)"`
	Region             string              `json:"region" doc:"region of the KMS API (default: the region in each key's ARN)"`
}

// BasicCredentials is a long-term AWS access key.
type BasicCredentials struct {
	AccessKey string `json:"accessKey" doc:"the access key id"`
	SecretKey string `json:"secretKey" doc:"the secret access key"`
}

// SessionCredentials are temporary AWS credentials.
type SessionCredentials struct {
	AccessKey    string `json:"accessKey" doc:"the access key id"`
	SecretKey    string `json:"secretKey" doc:"the secret access key"`
	SessionToken string `json:"sessionToken" doc:"the session token"`
}

var regionRE = regexp.MustCompile(`^[a-z]{2,}(-[a-z0-9]+)+$`)

// Check validates the config at apply time, without I/O.
func (c *Config) Check() error {
	if c == nil {
		return nil
	}
	if c.BasicCredentials != nil && c.SessionCredentials != nil {
		return errors.New("basicCredentials, sessionCredentials: set at most one")
	}
	if b := c.BasicCredentials; b != nil {
		if err := required("basicCredentials", "accessKey", b.AccessKey, "secretKey", b.SecretKey); err != nil {
			return err
		}
	}
	if s := c.SessionCredentials; s != nil {
		if err := required("sessionCredentials", "accessKey", s.AccessKey, "secretKey", s.SecretKey, "sessionToken", s.SessionToken); err != nil {
			return err
		}
	}
	if c.Endpoint != "" {
		u, err := url.Parse(c.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("endpoint: %q is not an http or https URL", c.Endpoint)
		}
	}
	if c.Region != "" && !regionRE.MatchString(c.Region) {
		return fmt.Errorf("region: %q is not an AWS region name", c.Region)
	}
	return nil
}

// required checks that the named values, given as name, value pairs, are
// not empty.
func required(at string, nameValues ...string) error {
	for i := 0; i < len(nameValues); i += 2 {
		if nameValues[i+1] == "" {
			return fmt.Errorf("%s.%s: required", at, nameValues[i])
		}
	}
	return nil
}

// keyARNRE matches arn:<partition>:kms:<region>:<account>:key/<id> and
// arn:<partition>:kms:<region>:<account>:alias/<name>.
var keyARNRE = regexp.MustCompile(`^arn:aws(-[a-z]+)*:kms:([a-z]{2,}(?:-[a-z0-9]+)+):[0-9]{12}:(key/[A-Za-z0-9-]+|alias/[A-Za-z0-9/_-]+)$`)

// CheckKeyID checks a key id: the keySecretId after aws-kms://, which must
// be the ARN of a key or of an alias.
func CheckKeyID(id string) error {
	_, err := keyRegion(id)
	return err
}

// keyRegion returns the region in a key or alias ARN.
func keyRegion(id string) (string, error) {
	m := keyARNRE.FindStringSubmatch(id)
	if m == nil {
		return "", fmt.Errorf("%q is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>) or alias ARN (...:alias/<name>)", id)
	}
	return m[2], nil
}
