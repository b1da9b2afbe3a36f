<?php
/* Run with `php setup.php ROOT` after install: pretty permalinks, an application password
 * for the admin (printed), and the install's sample post and page removed. */
[$_, $root] = $argv;
$_SERVER['HTTP_HOST'] = '127.0.0.1';
require $root . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/admin.php';
update_option('permalink_structure', '/%postname%/');
flush_rewrite_rules(false);
foreach (get_posts(['post_type' => ['post', 'page'], 'post_status' => 'any', 'numberposts' => -1]) as $p) {
    wp_delete_post($p->ID, true);
}
[$password] = WP_Application_Passwords::create_new_application_password(1, ['name' => 'syndbot-test']);
echo $password;
