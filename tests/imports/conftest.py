from tests.api.conftest import _fresh_throttles, client_for  # noqa: F401 - the API's clients per role
