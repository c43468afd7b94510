"""Who is calling and what they may do: local, LDAP and client-certificate identities."""
