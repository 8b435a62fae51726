package publicationtest_test

import (
	"testing"

	"github.com/kabinet/kabinet/shared/publication"
	"github.com/kabinet/kabinet/shared/publication/publicationtest"
)

func TestStore(t *testing.T) {
	publicationtest.TestStore(t, func(*testing.T) publication.Store { return publicationtest.New() })
}
