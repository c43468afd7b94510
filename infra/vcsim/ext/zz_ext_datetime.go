// securemode vcsim extension: HostDateTimeSystem (stock 0.24.2 has none).
// ESXi only knows the UTC time zone; NTP servers are host names or IP addresses.

package simulator

import (
	"net"
	"regexp"
	"time"

	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// HostDateTimeSystem holds the time configuration of one host.
type HostDateTimeSystem struct {
	mo.HostDateTimeSystem

	host   *mo.HostSystem
	offset time.Duration // set by UpdateDateTime; QueryDateTime adds it to the real clock
}

var extUTC = types.HostDateTimeSystemTimeZone{Key: "UTC", Name: "UTC", Description: "UTC", GmtOffset: 0}

var extHostnameRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*\.?$`)

func extNewHostDateTimeSystem(host *mo.HostSystem) *HostDateTimeSystem {
	s := &HostDateTimeSystem{host: host}
	s.Self = extHostRef("HostDateTimeSystem", "dateTimeSystem")
	s.DateTimeInfo = types.HostDateTimeInfo{
		TimeZone:            extUTC,
		SystemClockProtocol: "ntp",
		NtpConfig:           &types.HostNtpConfig{},
	}
	host.Config.DateTimeInfo = &s.DateTimeInfo // one copy: host.config.dateTimeInfo always agrees
	return s
}

func extValidNtpServer(server string) bool {
	return net.ParseIP(server) != nil || extHostnameRE.MatchString(server)
}

func (s *HostDateTimeSystem) UpdateDateTimeConfig(req *types.UpdateDateTimeConfig) soap.HasFault {
	body := &methods.UpdateDateTimeConfigBody{}
	cfg := req.Config
	if cfg.TimeZone != "" && cfg.TimeZone != extUTC.Key {
		body.Fault_ = Fault("ESXi supports only UTC", &types.InvalidArgument{InvalidProperty: "config.timeZone"})
		return body
	}
	if cfg.NtpConfig != nil {
		for _, server := range cfg.NtpConfig.Server {
			if !extValidNtpServer(server) {
				body.Fault_ = Fault("invalid NTP server "+server,
					&types.InvalidArgument{InvalidProperty: "config.ntpConfig.server"})
				return body
			}
		}
		ntp := &types.HostNtpConfig{Server: append([]string(nil), cfg.NtpConfig.Server...)}
		ntp.ConfigFile = append([]string(nil), cfg.NtpConfig.ConfigFile...)
		s.DateTimeInfo.NtpConfig = ntp
	}
	extNotify(s, "dateTimeInfo")
	extNotify(extHostOf(s.host), "config.dateTimeInfo")
	body.Res = &types.UpdateDateTimeConfigResponse{}
	return body
}

func (s *HostDateTimeSystem) QueryDateTime(req *types.QueryDateTime) soap.HasFault {
	return &methods.QueryDateTimeBody{
		Res: &types.QueryDateTimeResponse{Returnval: time.Now().Add(s.offset).UTC()},
	}
}

func (s *HostDateTimeSystem) UpdateDateTime(req *types.UpdateDateTime) soap.HasFault {
	s.offset = time.Until(req.DateTime)
	return &methods.UpdateDateTimeBody{Res: &types.UpdateDateTimeResponse{}}
}

func (s *HostDateTimeSystem) QueryAvailableTimeZones(req *types.QueryAvailableTimeZones) soap.HasFault {
	return &methods.QueryAvailableTimeZonesBody{
		Res: &types.QueryAvailableTimeZonesResponse{Returnval: []types.HostDateTimeSystemTimeZone{extUTC}},
	}
}

func (s *HostDateTimeSystem) RefreshDateTimeSystem(req *types.RefreshDateTimeSystem) soap.HasFault {
	return &methods.RefreshDateTimeSystemBody{Res: &types.RefreshDateTimeSystemResponse{}}
}
