// Command vcsim-ext runs govmomi's vSphere simulator as an ESXi host (default) or a vCenter, with
// the ESXi hardening API securemode needs (see infra/vcsim/README.md). It prints one KEY=value line
// per fact once it listens (GOVC_URL, VCSIM_USERNAME, VCSIM_TLS_SHA256, VCSIM_PID) and stops
// cleanly on SIGTERM or SIGINT, removing its temporary datastores.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"os/signal"
	"syscall"

	"github.com/vmware/govmomi/simulator"
)

type options struct {
	mode, listen, username, optionsFile, stateDir, tlsCert, tlsKey string
	vms, datastores, pnics, hosts, clusters, clusterHosts          int
	strictOptions, lockdownLogins, autostart, quiet                bool
}

func parseFlags() options {
	var o options
	flag.StringVar(&o.mode, "mode", "esx", "esx (a standalone ESXi host) or vcenter")
	flag.StringVar(&o.listen, "l", "127.0.0.1:0", "listen address host:port (port 0 = any free port)")
	flag.StringVar(&o.username, "username", "root", "login user name")
	flag.StringVar(&o.optionsFile, "options", "", "JSON seed file of host advanced options")
	flag.StringVar(&o.stateDir, "state-dir", "", "directory for lab records (typed USB scan codes)")
	flag.StringVar(&o.tlsCert, "tlscert", "", "PEM certificate (default: a fresh self-signed one)")
	flag.StringVar(&o.tlsKey, "tlskey", "", "PEM private key for -tlscert")
	flag.IntVar(&o.vms, "vm", 2, "VMs per host (esx) or per resource pool (vcenter)")
	flag.IntVar(&o.datastores, "ds", 1, "local datastores")
	flag.IntVar(&o.pnics, "pnics", 2, "physical NICs per host")
	flag.IntVar(&o.hosts, "hosts", 1, "vcenter: standalone hosts per datacenter")
	flag.IntVar(&o.clusters, "clusters", 0, "vcenter: clusters per datacenter")
	flag.IntVar(&o.clusterHosts, "cluster-hosts", 2, "vcenter: hosts per cluster")
	flag.BoolVar(&o.strictOptions, "strict-options", false, "refuse unknown option keys and wrong value types, as ESXi does")
	flag.BoolVar(&o.lockdownLogins, "lockdown-logins", true, "in lockdown mode refuse direct logins of non-exception users")
	flag.BoolVar(&o.autostart, "autostart", true, "power on the VMs of the model")
	flag.BoolVar(&o.quiet, "quiet", true, "discard the simulator's per-request log")
	flag.Parse()
	return o
}

// model builds the inventory description for the chosen mode.
func (o options) model() (*simulator.Model, error) {
	var m *simulator.Model
	switch o.mode {
	case "esx":
		m = simulator.ESX()
	case "vcenter":
		m = simulator.VPX()
		m.Host, m.Cluster, m.ClusterHost, m.Portgroup = o.hosts, o.clusters, o.clusterHosts, 0
	default:
		return nil, fmt.Errorf("-mode must be esx or vcenter, not %q", o.mode)
	}
	m.Machine, m.Datastore, m.Autostart = o.vms, o.datastores, o.autostart
	return m, nil
}

func run(o options) error {
	if o.pnics < 1 {
		return fmt.Errorf("-pnics must be at least 1")
	}
	password := os.Getenv("VCSIM_PASSWORD")
	if password == "" {
		return fmt.Errorf("set the login password in the environment variable VCSIM_PASSWORD")
	}
	if o.quiet {
		log.SetOutput(discard{})
	}
	simulator.Ext = simulator.ExtSettings{PNICs: o.pnics, StrictOptions: o.strictOptions,
		LockdownLogins: o.lockdownLogins, StateDir: o.stateDir}
	if o.optionsFile != "" {
		if err := simulator.ExtLoadOptionSeed(o.optionsFile); err != nil {
			return err
		}
	}
	cert, fingerprint, err := loadOrCreateCert(o.tlsCert, o.tlsKey, o.listen)
	if err != nil {
		return err
	}
	m, err := o.model()
	if err != nil {
		return err
	}
	if err := m.Create(); err != nil {
		return err
	}
	defer m.Remove()
	if o.username != "root" {
		simulator.ExtGrantAdmin(o.username) // the lab's dedicated engine account, as its admin created it
	}
	m.Service.Listen = &url.URL{Host: o.listen, User: url.UserPassword(o.username, password)}
	m.Service.TLS = tlsConfig(cert)
	m.Service.HandleFunc(simulator.ExtUsbPath, simulator.ExtServeUsbScanCodes)
	s := m.Service.NewServer()
	defer s.Close()

	u := *s.URL
	u.User = nil
	fmt.Printf("VCSIM_PID=%d\nVCSIM_USERNAME=%s\nVCSIM_TLS_SHA256=%s\nGOVC_URL=%s\n",
		os.Getpid(), o.username, fingerprint, u.String())

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
	return nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func main() {
	if err := run(parseFlags()); err != nil {
		fmt.Fprintln(os.Stderr, "vcsim-ext:", err)
		os.Exit(2)
	}
}
