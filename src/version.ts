// pjctl's version: --version and the exporter's pjctl_exporter_build_info. A leaf module.

export const VERSION = '0.1.0'
