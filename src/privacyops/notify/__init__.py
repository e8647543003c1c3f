"""Mail to people: notices of requests, codes, changes. One port, three implementations."""
