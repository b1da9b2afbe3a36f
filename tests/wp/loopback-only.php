<?php
/*
 * Plugin Name: syndbot test guard and feed image
 * Must-use plugin of the throwaway WordPress in tests/test_push_wordpress.py.
 * 1. Every outgoing HTTP request is logged (one URL a line) and refused unless its host is
 *    127.0.0.1; no mail is sent. This holds even if the constants in wp-config.php did not.
 *    Update checks and the https self-check are never scheduled or run.
 * 2. A post's featured image is announced in the RSS2 feed as an <enclosure>, as themes and
 *    SEO plugins do on real sites (core's feed leaves it out).
 */
add_filter('pre_http_request', function ($pre, $args, $url) {
    file_put_contents(WP_CONTENT_DIR . '/outgoing.log', $url . "\n", FILE_APPEND);
    if (wp_parse_url($url, PHP_URL_HOST) !== '127.0.0.1') {
        return new WP_Error('http_request_blocked', 'syndbot test: loopback only');
    }
    return $pre;
}, 0, 3);
add_filter('pre_wp_mail', '__return_false');
remove_action('init', 'wp_schedule_update_checks');
remove_action('init', 'wp_schedule_https_detection');
foreach (['wp_version_check', 'wp_update_plugins', 'wp_update_themes', 'wp_https_detection'] as $check) {
    remove_all_actions($check);
}
add_action('rss2_item', function () {
    $id = get_post_thumbnail_id();
    if (!$id) {
        return;
    }
    printf(
        "<enclosure url=\"%s\" length=\"%d\" type=\"%s\" />\n",
        esc_url(wp_get_attachment_url($id)),
        filesize(get_attached_file($id)),
        esc_attr(get_post_mime_type($id))
    );
});
