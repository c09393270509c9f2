/* The ABI probe: one function whose parameters are every public struct of
   swerl.h, built with debug information so that abidw records their layouts
   (sizes, field offsets and types) next to the library's symbols. abi-check
   compares a fresh probe and the library with the baselines in abi/. */
#include <swerl.h>

void swerl_abi_probe(swerl_config *config, swerl_stats *stats, swerl_message *message,
                     swerl_behavior *behavior, swerl_spawn_opts *spawn_opts, swerl_buffer *buffer,
                     swerl_supervisor_spec *supervisor_spec, swerl_child_spec *child_spec,
                     swerl_child_counts *child_counts, swerl_child_info *child_info,
                     swerl_process_info *process_info, swerl_term *term);

void swerl_abi_probe(swerl_config *config, swerl_stats *stats, swerl_message *message,
                     swerl_behavior *behavior, swerl_spawn_opts *spawn_opts, swerl_buffer *buffer,
                     swerl_supervisor_spec *supervisor_spec, swerl_child_spec *child_spec,
                     swerl_child_counts *child_counts, swerl_child_info *child_info,
                     swerl_process_info *process_info, swerl_term *term) {
    (void)config; (void)stats; (void)message; (void)behavior; (void)spawn_opts; (void)buffer;
    (void)supervisor_spec; (void)child_spec; (void)child_counts; (void)child_info; (void)process_info;
    (void)term;
}
