package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/kubectl-access/kubectl-access/identity"
	"github.com/kubectl-access/kubectl-access/internal/files"
	"github.com/kubectl-access/kubectl-access/internal/safe"
)

// GroupNamesEnv names a names file for every command, below --group-names
// and above the config file.
const GroupNamesEnv = "KUBECTL_ACCESS_GROUP_NAMES"

// userConfig is the user's settings, in config.json under the user's
// config directory ($XDG_CONFIG_HOME/kubectl-access, ~/.config/kubectl-access,
// ~/Library/Application Support/kubectl-access, %AppData%\kubectl-access).
type userConfig struct {
	// GroupNames is the names file every command reads (an absolute path).
	GroupNames string `json:"groupNames,omitempty"`
}

func configPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("the user's config directory: %w", err)
	}
	return filepath.Join(dir, "kubectl-access", "config.json"), nil
}

// loadConfig reads the user's config; a missing file is the empty config.
func loadConfig(ctx context.Context) (userConfig, string, error) {
	var c userConfig
	path, err := configPath()
	if err != nil {
		return c, "", err
	}
	b, err := files.Read(ctx, files.Input{What: "the config file", Path: path, Max: files.MaxConfig})
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return c, path, nil
	case err != nil:
		return c, path, err
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, path, safe.Hint(fmt.Errorf("%s: not a kubectl access config: %v", path, err), "fix or delete it; `kubectl access config set` writes it")
	}
	return c, path, nil
}

// saveConfig writes the config, readable by the user only.
func saveConfig(path string, c userConfig) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	// The file is the program's own: replaced whole, through a temporary
	// file of a random name, never through a link.
	return files.Write(path, true, func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}

// namesSource is where the group names come from: --group-names, else
// $KUBECTL_ACCESS_GROUP_NAMES, else the config file; "" when none, and
// the origin to name in errors.
func (in *InputOptions) namesSource(ctx context.Context) (path, origin string, err error) {
	if in.GroupNames != "" {
		return in.GroupNames, "--group-names", nil
	}
	if p := os.Getenv(GroupNamesEnv); p != "" {
		return p, GroupNamesEnv, nil
	}
	c, cfg, err := loadConfig(ctx)
	if err != nil || c.GroupNames == "" {
		return "", "", err
	}
	return c.GroupNames, "group-names in " + cfg + " (kubectl access config set group-names)", nil
}

// NewCmdConfig returns `kubectl access config`.
func NewCmdConfig(r *RootOptions) *cobra.Command {
	c := &cobra.Command{
		Use:   "config",
		Short: "Settings every command uses: the group names file",
		Long: `config keeps settings in config.json under your config directory, so that every
command uses them without a flag. group-names is a file of Entra group object
id -> display name (as --group-names takes); --group-names and
$KUBECTL_ACCESS_GROUP_NAMES take precedence over it.`,
		Example: `  kubectl access config set group-names testdata/demo/group-names.json
  kubectl access config view
  kubectl access config unset group-names`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	set := &cobra.Command{
		Use:     "set group-names FILE",
		Short:   "Use FILE's group names in every command (it is read now to check it)",
		Example: `  kubectl access config set group-names testdata/demo/group-names.json`,
		Args:    cobra.ExactArgs(2),
		ValidArgs: []cobra.Completion{
			"group-names",
		},
		RunE: func(c *cobra.Command, args []string) error {
			if args[0] != "group-names" {
				return fmt.Errorf("config set %q: the only setting is group-names", args[0])
			}
			path, err := filepath.Abs(args[1])
			if err != nil {
				return err
			}
			names, err := identity.LoadNames(c.Context(), path)
			if err != nil {
				return err
			}
			cfg, cfgPath, err := loadConfig(c.Context())
			if err != nil {
				return err
			}
			cfg.GroupNames = path
			if err := saveConfig(cfgPath, cfg); err != nil {
				return err
			}
			fmt.Fprintf(r.Out, "group-names: %s (%d groups), in %s\n", safe.Terminal(path), len(names), safe.Terminal(cfgPath))
			return nil
		},
	}
	unset := &cobra.Command{
		Use:     "unset group-names",
		Short:   "Stop using a group names file by default",
		Example: `  kubectl access config unset group-names`,
		Args:    cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if args[0] != "group-names" {
				return fmt.Errorf("config unset %q: the only setting is group-names", args[0])
			}
			cfg, cfgPath, err := loadConfig(c.Context())
			if err != nil {
				return err
			}
			cfg.GroupNames = ""
			return saveConfig(cfgPath, cfg)
		},
	}
	view := &cobra.Command{
		Use:     "view",
		Short:   "Show the settings and where each comes from",
		Example: `  kubectl access config view`,
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, cfgPath, err := loadConfig(c.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(r.Out, "config file: %s\n", safe.Terminal(cfgPath))
			switch env := os.Getenv(GroupNamesEnv); {
			case env != "":
				fmt.Fprintf(r.Out, "group-names: %s (from $%s, over the config file)\n", safe.Terminal(env), GroupNamesEnv)
			case cfg.GroupNames != "":
				fmt.Fprintf(r.Out, "group-names: %s\n", safe.Terminal(cfg.GroupNames))
			default:
				fmt.Fprintln(r.Out, "group-names: (none)")
			}
			return nil
		},
	}
	c.AddCommand(set, unset, view)
	return c
}
