"""The rebuild's state-changing steps after a compromise: quarantine the VMs, rotate the credentials, revoke the
old certificates, set the old deployment's engine state aside, return the fallback to powered off."""
