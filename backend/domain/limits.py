"""The sizes the domain allows; the API validates them and the database's CHECKs repeat them."""

TITLE_MAX = 500  # characters of a todo's title
NAME_MAX = 200  # characters of a list's name
NOTES_MAX = 10_000  # characters of a todo's notes
# Positions are PostgreSQL integers; the cap leaves room to append a billion more after it.
MAX_ORDER = 1_000_000_000
MAX_BULK = 1000  # todos in one bulk create
USERNAME_MIN, USERNAME_MAX = 3, 40  # characters: letters, digits, ".", "_", "-"
PASSWORD_MIN, PASSWORD_MAX = 10, 1000  # characters
TOKEN_NAME_MAX = 100  # characters of an access token's name
